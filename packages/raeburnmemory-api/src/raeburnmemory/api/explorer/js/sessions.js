// The first view: the sessions, a page at a time, with their counts and first and last times.

import { call } from "./api.js";
import { field, h, route, routeWith, timeElement, toIso } from "./dom.js";

const PAGE_SIZE = 50;
let firstRenderMarked = false;

function filtersForm(params) {
  const agent = h("input", { name: "agent_id", id: "filter-agent", value: params.get("agent_id") ?? "" });
  const since = h("input", { name: "since", id: "filter-since", type: "datetime-local", step: 1 });
  const until = h("input", { name: "until", id: "filter-until", type: "datetime-local", step: 1 });
  since.value = params.get("since") ?? "";
  until.value = params.get("until") ?? "";
  const form = h(
    "form",
    { class: "filters", id: "sessions-filters", "aria-label": "Filter the sessions" },
    field("Agent id", agent),
    field("Since", since),
    field("Until", until),
    h("div", { class: "buttons" }, h("button", { type: "submit" }, "Filter"),
      h("a", { href: route("sessions") }, "Clear")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    location.hash = routeWith(["sessions"], {
      agent_id: agent.value.trim(), since: since.value, until: until.value,
    });
  });
  return form;
}

function sessionRow(item) {
  const agents = (item.agents ?? []).join(", ");
  return h(
    "tr",
    { dataset: { sessionId: item.session_id } },
    h("td", { "data-label": "Session" }, h("a", { href: route("sessions", item.session_id) }, item.session_id)),
    h("td", { class: "number", "data-label": "Interactions" }, item.interactions),
    h("td", { "data-label": "First" }, timeElement(item.first)),
    h("td", { "data-label": "Last" }, timeElement(item.last)),
    h("td", { "data-label": "Agents" }, agents),
    h("td", { "data-label": "Graph" }, h("a", { href: route("sessions", item.session_id, "graph"), "aria-label": `Graph of ${item.session_id}` }, "graph")),
  );
}

function sessionsTable(items) {
  return h(
    "table",
    { class: "sessions", id: "sessions-table" },
    h("caption", { class: "hint" }, `${items.length} session${items.length === 1 ? "" : "s"} on this page`),
    h("thead", {}, h("tr", {}, ...["Session", "Interactions", "First", "Last", "Agents", "Graph"].map((name) => h("th", { scope: "col" }, name)))),
    h("tbody", {}, items.map(sessionRow)),
  );
}

function pager(params, nextCursor) {
  const filters = { agent_id: params.get("agent_id"), since: params.get("since"), until: params.get("until") };
  const page = Number(params.get("page") ?? "1");
  const links = [];
  if (params.get("cursor")) links.push(h("a", { href: routeWith(["sessions"], filters), id: "first-page" }, "First page"));
  if (nextCursor) {
    const next = routeWith(["sessions"], { ...filters, cursor: nextCursor, page: page + 1 });
    links.push(h("a", { href: next, id: "next-page", rel: "next" }, "Next page"));
  }
  return h("nav", { class: "pager", "aria-label": "Pages" }, h("span", { class: "hint" }, `Page ${page}`), links);
}

/** The sessions view: filters, one page of sessions and the way to the next. */
export async function renderSessions(main, ctx) {
  const { params } = ctx;
  const query = {
    agent_id: params.get("agent_id"),
    since: toIso(params.get("since"), "Since"),
    until: toIso(params.get("until"), "Until"),
  };
  const summary = h("p", { class: "summary", id: "sessions-summary" });
  main.append(h("h1", {}, "Sessions"), filtersForm(params), summary);
  const page = await call("GET", "memory/session-overview", {
    query: { ...query, limit: PAGE_SIZE, cursor: params.get("cursor") },
  });
  if (!ctx.isCurrent()) return;
  if (page.items.length === 0) {
    main.append(h("p", { id: "no-sessions" }, "No session matches."));
  } else {
    main.append(sessionsTable(page.items), pager(params, page.next_cursor));
  }
  if (!firstRenderMarked) {
    firstRenderMarked = true;
    performance.mark("explorer:sessions-rendered");
  }
  // The total comes after the first page is on screen: counting a large store takes longer.
  call("GET", "memory/count", { query })
    .then((answer) => {
      if (ctx.isCurrent()) summary.textContent = `${answer.count} interaction${answer.count === 1 ? "" : "s"} match.`;
    })
    .catch(() => {});
}
