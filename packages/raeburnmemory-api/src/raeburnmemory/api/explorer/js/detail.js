// One memory: every field of the interaction, and its removal after the user confirms.

import { call, memoryPath } from "./api.js";
import { h, jsonBlock, route, timeElement } from "./dom.js";
import { noticeAfterNavigation, reportError, showNotice } from "./notice.js";

function row(name, value) {
  return [h("dt", {}, name), h("dd", {}, value)];
}

/** Ask the user in the page's dialog; resolves to true when they chose to go ahead. */
function confirmed(text) {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
    dialog.showModal();
  });
}

async function deleteMemory(item, button) {
  const ok = await confirmed(
    `Delete the memory ${item.prompt_id} (prompt and response) from session ${item.session_id}? This cannot be undone.`,
  );
  if (!ok) {
    showNotice("Nothing was deleted.", "info");
    button.focus();
    return;
  }
  button.disabled = true;
  try {
    await call("DELETE", memoryPath("interactions", item.prompt_id));
  } catch (error) {
    button.disabled = false;
    if (error.status === 403) {
      showNotice(`This API key may not delete memories (${error.message}). Use a key with the admin scope.`, "error");
    } else {
      reportError(error);
    }
    return;
  }
  noticeAfterNavigation(`Deleted the memory ${item.prompt_id}.`, "done");
  location.hash = route("sessions", item.session_id);
}

/** The detail view of the memory whose prompt id is `promptId`. */
export async function renderDetail(main, ctx, promptId) {
  main.append(h("h1", {}, `Memory ${promptId}`));
  const item = await call("GET", memoryPath("interactions", promptId));
  if (!ctx.isCurrent()) return;
  const agent = item.agent_name ? `${item.agent_name} (${item.agent_id})` : item.agent_id;
  const remove = h("button", { type: "button", class: "danger", id: "delete-memory" }, "Delete this memory…");
  remove.addEventListener("click", () => deleteMemory(item, remove));
  main.append(
    h(
      "dl",
      { class: "detail", id: "memory-detail" },
      row("Prompt", item.prompt_text),
      row("Response", item.response_text),
      row("Time", timeElement(item.timestamp)),
      row("Agent", agent),
      row("Session", h("a", { href: route("sessions", item.session_id) }, item.session_id)),
      row("Prompt id", item.prompt_id),
      row("Response id", item.response_id),
      row("Metadata", jsonBlock(item.metadata) ?? "none"),
      Object.keys(item.prompt_attrs).length ? row("Prompt attributes", jsonBlock(item.prompt_attrs)) : [],
      Object.keys(item.response_attrs).length ? row("Response attributes", jsonBlock(item.response_attrs)) : [],
      Object.keys(item.agent_attrs).length ? row("Agent attributes", jsonBlock(item.agent_attrs)) : [],
    ),
    h("p", {}, h("a", { href: route("sessions", item.session_id, "graph") }, "See it in the session's graph")),
    h("p", {}, remove),
  );
}
