// The explorer's shell: the views by URL hash, the API key panel and the notices.

import { currentKey, rememberKey } from "./api.js";
import { renderDetail } from "./detail.js";
import { renderGraph } from "./graph.js";
import { clearNotice, onKeyNeeded, reportError, showNotice, showPendingNotice } from "./notice.js";
import { renderSearch } from "./search.js";
import { renderSessions } from "./sessions.js";
import { renderTimeline } from "./timeline.js";

const main = document.getElementById("main");
const keyPanel = document.getElementById("key-panel");
const keyMessage = document.getElementById("key-message");
const keyInput = document.getElementById("api-key");
const forgetButton = document.getElementById("forget-key");
let renderCount = 0;

function askForKey(message) {
  keyMessage.textContent = message;
  keyPanel.hidden = false;
  keyInput.value = "";
  keyInput.focus();
}

onKeyNeeded(askForKey);

function parseHash() {
  const raw = location.hash.replace(/^#/, "") || "/sessions";
  const [path, query] = raw.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query ?? "") };
}

function pickView(parts) {
  const [first, id, sub] = parts;
  if (first === "search") return ["search", (target, ctx) => renderSearch(target, ctx)];
  if (first === "memory" && id !== undefined) {
    return ["memory", (target, ctx) => renderDetail(target, ctx, id)];
  }
  if (first === "sessions" && id !== undefined) {
    if (sub === "graph") return ["graph", (target, ctx) => renderGraph(target, ctx, id)];
    return ["timeline", (target, ctx) => renderTimeline(target, ctx, id)];
  }
  return ["sessions", (target, ctx) => renderSessions(target, ctx)];
}

function markNavigation(name) {
  const section = name === "search" ? "search" : "sessions";
  for (const link of document.querySelectorAll("[data-nav]")) {
    if (link.dataset.nav === section) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** Draw the view the URL hash names. */
async function render() {
  const token = ++renderCount;
  const { parts, params } = parseHash();
  const [name, view] = pickView(parts);
  clearNotice();
  showPendingNotice();
  markNavigation(name);
  forgetButton.hidden = !currentKey();
  document.body.dataset.view = name;
  document.body.dataset.state = "loading";
  main.replaceChildren();
  main.setAttribute("aria-busy", "true");
  const ctx = { params, isCurrent: () => token === renderCount };
  try {
    await view(main, ctx);
  } catch (error) {
    if (ctx.isCurrent()) reportError(error);
  } finally {
    if (ctx.isCurrent()) {
      main.removeAttribute("aria-busy");
      document.body.dataset.state = "ready";
    }
  }
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  rememberKey(keyInput.value.trim());
  keyInput.value = "";
  keyPanel.hidden = true;
  render();
});
document.getElementById("key-cancel").addEventListener("click", () => {
  keyPanel.hidden = true;
});
document.getElementById("change-key").addEventListener("click", () => {
  askForKey(currentKey() ? "Type another key to use instead." : "Type the server's API key.");
});
forgetButton.addEventListener("click", () => {
  rememberKey("");
  showNotice("The key is forgotten.", "done");
  forgetButton.hidden = true;
});
window.addEventListener("hashchange", () => {
  render();
  main.focus({ preventScroll: true });
});
render();
