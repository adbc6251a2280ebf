// Every call the explorer makes goes through here, to the server's public /memory routes,
// with the API key the user gave (kept in this tab's sessionStorage only).

const KEY_ITEM = "raeburnmemory.apiKey";
// The pages are served at <root>/ui/, so the API is one folder up.
const API_ROOT = new URL("../", document.baseURI);

/** An error answered by the server (or no answer at all: status 0). */
export class ApiError extends Error {
  constructor(status, type, message) {
    super(message);
    this.status = status;
    this.type = type;
  }
}

/** The API key of this tab, or null. */
export function currentKey() {
  return sessionStorage.getItem(KEY_ITEM);
}

/** Keep `key` for this tab (an empty key forgets it). */
export function rememberKey(key) {
  if (key) sessionStorage.setItem(KEY_ITEM, key);
  else sessionStorage.removeItem(KEY_ITEM);
}

function urlOf(path, query) {
  const url = new URL(path, API_ROOT);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  return url;
}

/** Call a route: call("GET", "memory/count", {query: {...}}) or with {body: {...}} as JSON. */
export async function call(method, path, { query, body } = {}) {
  const headers = { Accept: "application/json" };
  const key = currentKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(urlOf(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (error) {
    throw new ApiError(0, "NetworkError", `The server cannot be reached (${error.message}).`);
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const detail = (data && data.error) || {};
    const message = detail.message || `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, detail.type || "ApiError", message);
  }
  return data;
}

/** A path under /memory for an id, which may hold any character. */
export function memoryPath(kind, id) {
  return `memory/${kind}/${encodeURIComponent(id)}`;
}
