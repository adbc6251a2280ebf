// One session as a timeline: each interaction's time, agent, prompt, response and metadata.

import { call } from "./api.js";
import { h, jsonBlock, route, timeElement } from "./dom.js";
import { reportError } from "./notice.js";

const PAGE_SIZE = 100;

/** The links between a session's two views. */
export function sessionTabs(sessionId, current) {
  const tab = (name, label, href) =>
    h("a", { href, "aria-current": current === name ? "page" : undefined, id: `tab-${name}` }, label);
  return h(
    "nav",
    { class: "tabs", "aria-label": "Session views" },
    tab("timeline", "Timeline", route("sessions", sessionId)),
    tab("graph", "Graph", route("sessions", sessionId, "graph")),
  );
}

/** One interaction as a timeline entry (also used by search results). */
export function interactionEntry(item, extra = []) {
  const agent = item.agent_name ? `${item.agent_name} (${item.agent_id})` : item.agent_id;
  return h(
    "li",
    { dataset: { promptId: item.prompt_id ?? item.id } },
    h(
      "div",
      { class: "meta-line" },
      extra,
      timeElement(item.timestamp),
      h("span", {}, `agent ${agent}`),
      h("a", { href: route("memory", item.prompt_id ?? item.id) }, "details"),
    ),
    h("p", { class: "said prompt" }, h("b", {}, "Prompt"), item.prompt_text),
    h("p", { class: "said response" }, h("b", {}, "Response"), item.response_text),
    jsonBlock(item.metadata),
  );
}

/** The timeline view of one session, a page at a time ("Show more" loads the next). */
export async function renderTimeline(main, ctx, sessionId) {
  const list = h("ol", { class: "timeline", id: "timeline" });
  const more = h("button", { type: "button", id: "show-more", hidden: true }, "Show more");
  const summary = h("p", { class: "summary", id: "timeline-summary" });
  main.append(h("h1", {}, `Session ${sessionId}`), sessionTabs(sessionId, "timeline"), summary, list, more);
  let cursor = null;

  async function loadPage() {
    const page = await call("GET", "memory/interactions", {
      query: { session_id: sessionId, limit: PAGE_SIZE, order: "asc", cursor },
    });
    if (!ctx.isCurrent()) return;
    list.append(...page.items.map((item) => interactionEntry(item)));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    const shown = list.children.length;
    summary.textContent = shown === 0
      ? "This session has no interactions."
      : `${shown} interaction${shown === 1 ? "" : "s"} shown, oldest first.`;
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      await loadPage();
    } catch (error) {
      reportError(error);
    } finally {
      more.disabled = false;
    }
  });
  await loadPage();
}
