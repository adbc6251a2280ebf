// Search: vector, keyword or hybrid, with session, agent, time and metadata filters.

import { call } from "./api.js";
import { field, h, route, routeWith, toIso } from "./dom.js";
import { interactionEntry } from "./timeline.js";

const FIELDS = ["text", "mode", "top_k", "session_id", "agent_id", "since", "until", "where", "min_score"];

function searchForm(params) {
  const text = h("input", { name: "text", id: "search-text", type: "search", required: true });
  const mode = h("select", { name: "mode", id: "search-mode" },
    ...["vector", "keyword", "hybrid"].map((name) => h("option", { value: name }, name)));
  const topK = h("input", { name: "top_k", id: "search-top-k", type: "number", min: 1, max: 1000 });
  const session = h("input", { name: "session_id", id: "search-session" });
  const agent = h("input", { name: "agent_id", id: "search-agent" });
  const since = h("input", { name: "since", id: "search-since", type: "datetime-local", step: 1 });
  const until = h("input", { name: "until", id: "search-until", type: "datetime-local", step: 1 });
  const minScore = h("input", { name: "min_score", id: "search-min-score", type: "number", step: "any", min: -1, max: 1 });
  const where = h("textarea", { name: "where", id: "search-where", placeholder: '{"topic": "billing"}', spellcheck: "false" });
  const controls = { text, mode, top_k: topK, session_id: session, agent_id: agent, since, until, where, min_score: minScore };
  for (const name of FIELDS) controls[name].value = params.get(name) ?? "";
  if (!mode.value) mode.value = "vector";
  if (!topK.value) topK.value = "10";
  const form = h(
    "form",
    { class: "filters", id: "search-form", role: "search" },
    field("Text", text, true),
    field("Mode", mode),
    field("How many", topK),
    field("Session id", session),
    field("Agent id", agent),
    field("Since", since),
    field("Until", until),
    field("Lowest score", minScore),
    field("Metadata filter (JSON, as in where=)", where, true),
    h("div", { class: "buttons" }, h("button", { type: "submit", id: "search-submit" }, "Search")),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const values = Object.fromEntries(FIELDS.map((name) => [name, controls[name].value.trim()]));
    location.hash = routeWith(["search"], values);
  });
  return form;
}

function parsedWhere(text) {
  if (!text) return undefined;
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`The metadata filter is not JSON: ${error.message}`);
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new Error('The metadata filter must be a JSON object, like {"topic": "billing"}.');
  }
  return value;
}

function requestBody(params) {
  const body = { text: params.get("text"), mode: params.get("mode") || "vector" };
  body.top_k = Number(params.get("top_k") || "10");
  for (const name of ["session_id", "agent_id"]) if (params.get(name)) body[name] = params.get(name);
  const since = toIso(params.get("since"), "Since");
  const until = toIso(params.get("until"), "Until");
  if (since) body.since = since;
  if (until) body.until = until;
  if (params.get("min_score")) body.min_score = Number(params.get("min_score"));
  const where = parsedWhere(params.get("where"));
  if (where) body.where = where;
  return body;
}

function hitEntry(hit) {
  const score = h("span", { class: "score", title: "score" }, `score ${hit.score.toFixed(3)}`);
  const session = h("a", { href: route("sessions", hit.session_id) }, `session ${hit.session_id}`);
  return interactionEntry(hit, [score, session]);
}

/** The search view: the form, and the hits of the search the URL describes. */
export async function renderSearch(main, ctx) {
  const { params } = ctx;
  main.append(h("h1", {}, "Search"), searchForm(params));
  if (!params.get("text")) return;
  const body = requestBody(params);
  const answer = await call("POST", "memory/similar", { body });
  if (!ctx.isCurrent()) return;
  const count = answer.hits.length;
  main.append(
    h("p", { class: "summary", id: "search-summary" }, count === 0 ? "Nothing found." : `${count} hit${count === 1 ? "" : "s"}, best first (${body.mode} search).`),
    h("ol", { class: "results", id: "results" }, answer.hits.map(hitEntry)),
  );
}
