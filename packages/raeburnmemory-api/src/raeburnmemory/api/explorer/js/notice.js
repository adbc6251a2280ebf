// The message line above each view, and what each kind of failure tells the user.

import { currentKey, rememberKey } from "./api.js";

const notice = document.getElementById("notice");
let pending = null;
let askForKey = () => {};

/** Show a message above the view: kind "error", "done" or "info". */
export function showNotice(text, kind = "info") {
  notice.textContent = text;
  notice.className = kind;
  notice.setAttribute("role", kind === "error" ? "alert" : "status");
  notice.hidden = false;
}

/** Hide the message. */
export function clearNotice() {
  notice.hidden = true;
  notice.textContent = "";
}

/** Show a message once the next view has rendered (after a navigation). */
export function noticeAfterNavigation(text, kind = "done") {
  pending = [text, kind];
}

/** Show the message saved by noticeAfterNavigation, if any. */
export function showPendingNotice() {
  if (pending) showNotice(...pending);
  pending = null;
}

/** Set what opens the API key panel, with a message (done once by the shell). */
export function onKeyNeeded(handler) {
  askForKey = handler;
}

/** Tell the user about an error: a refused key opens the key panel. */
export function reportError(error) {
  if (error.status === 401) {
    const refused = currentKey()
      ? "The server refused this API key. Check it and type it again."
      : "This server needs an API key to show its memories.";
    rememberKey(""); // a refused key is not kept
    askForKey(refused);
    showNotice(`The server answered 401: ${error.message.replace(/\.$/, "")}.`, "error");
  } else if (error.status === 403) {
    showNotice(`This API key may not do that: ${error.message}`, "error");
  } else {
    showNotice(error.message, "error");
  }
}
