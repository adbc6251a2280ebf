// Small helpers for building the pages. Text always goes in as text, never as HTML.

/** An element: h("a", {href: "#/x", class: "y"}, "text", child). */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const pad = (n) => String(n).padStart(2, "0");

/** An ISO timestamp as local "YYYY-MM-DD HH:MM:SS", or the text itself if it is not one. */
export function formatTime(iso) {
  const moment = new Date(iso);
  if (Number.isNaN(moment.getTime())) return String(iso ?? "");
  return (
    `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())} ` +
    `${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}`
  );
}

/** A <time> element showing a timestamp in local time, with the stored value as its title. */
export function timeElement(iso) {
  return h("time", { datetime: iso, title: iso }, formatTime(iso));
}

/** The first `length` characters of a text, with an ellipsis when cut. */
export function shorten(text, length) {
  const flat = String(text ?? "").replace(/\s+/g, " ").trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/** A datetime-local input's value as an ISO timestamp (UTC), or undefined when empty. */
export function toIso(value, label) {
  if (!value) return undefined;
  const moment = new Date(value);
  if (Number.isNaN(moment.getTime())) throw new Error(`${label} is not a date and time: ${value}`);
  return moment.toISOString();
}

/** A labelled form field: an input, select or textarea inside its <label>. */
export function field(text, control, wide = false) {
  return h("label", { class: wide ? "wide" : undefined }, text, control);
}

/** The hash of a view: route("sessions", id, "graph") -> "#/sessions/<id>/graph". */
export function route(...parts) {
  return `#/${parts.map((part) => encodeURIComponent(part)).join("/")}`;
}

/** The hash of a view with its query: "#/search?text=..." (empty values left out). */
export function routeWith(parts, params) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(name, value);
  }
  const text = query.toString();
  return route(...parts) + (text ? `?${text}` : "");
}

/** Metadata as indented JSON inside a <pre>, or nothing when it is empty. */
export function jsonBlock(value) {
  if (!value || Object.keys(value).length === 0) return null;
  return h("pre", { class: "json" }, JSON.stringify(value, null, 2));
}
