// One session as a graph: prompt, response, agent and session nodes, drawn with Cytoscape.js.

import { call } from "./api.js";
import { h, route, shorten } from "./dom.js";
import { sessionTabs } from "./timeline.js";

// Interactions per row of the drawing; each takes a column, prompt above its response.
const PER_ROW = 8;
const COLUMN = 230;
const ROW = 230;
// How many rows a long session's drawing shows when it opens.
const FIRST_ROWS = 4;
// Up to this many interactions, the links to the session and agent nodes show from the start.
const CONTEXT_UP_TO = 50;
const CONTEXT_LINKS = '[relation = "belongs_to"], [relation = "generated_by"]';
const COLORS = { prompt: "#2f6fdb", response: "#2e9d5b", agent: "#c77c11", session: "#8e44ad" };
// The links every interaction has; anything else is a link a caller made.
const BUILT_IN = new Set(["responded_with", "generated_by", "belongs_to", "followed_by"]);
let loading = null;

/** Load the vendored Cytoscape.js once, on the first graph shown. */
function loadCytoscape() {
  if (window.cytoscape) return Promise.resolve(window.cytoscape);
  loading ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "vendor/cytoscape.min.js";
    script.onload = () => resolve(window.cytoscape);
    script.onerror = () => {
      loading = null;
      reject(new Error("The graph library (vendor/cytoscape.min.js) could not be loaded."));
    };
    document.head.append(script);
  });
  return loading;
}

function label(node) {
  if (node.kind === "agent") return node.name ? `${node.name}\n(${node.key})` : node.key;
  if (node.kind === "session") return `session ${node.key}`;
  return shorten(node.text, 60);
}

/** Where each node goes: interactions in time order along rows, agents and session at the left. */
function positions(nodes, edges) {
  const prompts = nodes.filter((node) => node.kind === "prompt");
  prompts.sort((a, b) => String(a.timestamp).localeCompare(String(b.timestamp)));
  const column = new Map(prompts.map((node, index) => [node.id, index]));
  const answer = new Map(edges.filter((e) => e.relation === "responded_with").map((e) => [e.target, e.source]));
  const place = new Map();
  let agents = 0;
  for (const node of nodes) {
    if (node.kind === "prompt" || node.kind === "response") {
      const promptId = node.kind === "prompt" ? node.id : answer.get(node.id);
      const index = column.get(promptId) ?? 0;
      const x = (index % PER_ROW) * COLUMN;
      const y = Math.floor(index / PER_ROW) * ROW + (node.kind === "response" ? 95 : 0);
      place.set(node.id, { x, y });
    } else if (node.kind === "agent") {
      place.set(node.id, { x: -COLUMN * 1.2, y: 140 + agents * 110 });
      agents += 1;
    } else {
      place.set(node.id, { x: -COLUMN * 1.2, y: -ROW * 0.6 });
    }
  }
  return place;
}

function elements(data) {
  const place = positions(data.nodes, data.edges);
  const nodes = data.nodes.map((node) => ({
    group: "nodes",
    data: { id: node.id, kind: node.kind, key: node.key, label: label(node), promptId: node.prompt_id },
    position: place.get(node.id),
  }));
  const edges = data.edges.map((edge, index) => ({
    group: "edges",
    data: {
      id: `edge-${index}`,
      source: edge.source,
      target: edge.target,
      relation: edge.relation,
      caller: BUILT_IN.has(edge.relation) ? "no" : "yes",
    },
  }));
  return [...nodes, ...edges];
}

const STYLE = [
  { selector: "node", style: {
    label: "data(label)", "font-size": 11, "text-wrap": "wrap", "text-max-width": 190,
    "text-valign": "bottom", "text-margin-y": 4, width: 22, height: 22, color: "#555",
    "min-zoomed-font-size": 7,
  } },
  ...Object.entries(COLORS).map(([kind, color]) => ({
    selector: `node[kind = "${kind}"]`, style: { "background-color": color },
  })),
  { selector: 'node[kind = "agent"], node[kind = "session"]', style: { shape: "round-rectangle", width: 34, height: 34 } },
  { selector: "edge", style: {
    width: 1, "line-color": "#bbb", "target-arrow-color": "#bbb", "target-arrow-shape": "triangle",
    "curve-style": "bezier", "arrow-scale": 0.8, opacity: 0.55,
  } },
  { selector: 'edge[relation = "followed_by"]', style: { width: 2.5, "line-color": "#2f6fdb", "target-arrow-color": "#2f6fdb", opacity: 0.9 } },
  { selector: 'edge[caller = "yes"]', style: {
    "curve-style": "unbundled-bezier", "control-point-distances": -70, "control-point-weights": 0.5,
    width: 2.5, "line-style": "dashed", "line-color": "#d0342c", "target-arrow-color": "#d0342c",
    label: "data(relation)", "font-size": 10, color: "#d0342c", opacity: 1,
  } },
  { selector: "node:selected", style: { "border-width": 3, "border-color": "#111" } },
];

function counted(data) {
  const kinds = {};
  for (const node of data.nodes) kinds[node.kind] = (kinds[node.kind] ?? 0) + 1;
  const caller = data.edges.filter((edge) => !BUILT_IN.has(edge.relation)).length;
  const followed = data.edges.filter((edge) => edge.relation === "followed_by").length;
  return { kinds, caller, followed };
}

const plural = (count, word) => `${count} ${word}${count === 1 ? "" : "s"}`;

function legend(data) {
  const { kinds, caller, followed } = counted(data);
  const items = Object.entries(COLORS).map(([kind, color]) =>
    h("li", {}, h("span", { class: "swatch", style: `background:${color}` }), plural(kinds[kind] ?? 0, kind)));
  items.push(h("li", {}, `${plural(followed, "followed_by link")} (blue)`));
  items.push(h("li", {}, `${plural(caller, "link")} made by callers (red, dashed)`));
  return h("ul", { class: "legend", id: "graph-legend" }, items);
}

/** The graph view of one session; a click on a prompt or response opens that memory. */
export async function renderGraph(main, ctx, sessionId) {
  const summary = h("p", { class: "summary", id: "graph-summary" }, "Loading the graph…");
  const box = h("div", { id: "graph", role: "img", "aria-label": `Graph of session ${sessionId}` });
  main.append(
    h("h1", {}, `Session ${sessionId}`),
    sessionTabs(sessionId, "graph"),
    summary,
    box,
    h("p", { class: "hint" }, "Drag to move, scroll or pinch to zoom; select a prompt or response to open it. The timeline shows the same session as text."),
  );
  const [data, cytoscape] = await Promise.all([
    call("GET", "memory/graph", { query: { session_id: sessionId } }),
    loadCytoscape(),
  ]);
  if (!ctx.isCurrent()) return;
  summary.textContent = `${plural(data.nodes.length, "node")} and ${plural(data.edges.length, "link")}.`;
  summary.after(legend(data));
  const graph = cytoscape({
    container: box,
    elements: elements(data),
    style: STYLE,
    layout: { name: "preset", fit: true, padding: 30 },
    minZoom: 0.05,
    maxZoom: 3,
  });
  // A long session opens on its first rows, readable; zoom out to see the rest.
  const opening = graph.nodes('[kind = "prompt"], [kind = "response"]')
    .filter((node) => node.position("y") < ROW * FIRST_ROWS);
  if (opening.length < graph.nodes('[kind = "prompt"]').length * 2) {
    const context = graph.nodes('[kind = "session"]').union(graph.nodes('[kind = "agent"]').slice(0, 2));
    graph.fit(opening.union(context), 30);
  }
  const prompts = graph.nodes('[kind = "prompt"]').length;
  const toggle = h("input", { type: "checkbox", id: "graph-context" });
  toggle.checked = prompts <= CONTEXT_UP_TO;
  const showContext = () => graph.edges(CONTEXT_LINKS).style("display", toggle.checked ? "element" : "none");
  toggle.addEventListener("change", showContext);
  showContext();
  box.before(h("label", { class: "hint" }, toggle, " Show each interaction's links to its session and agent"));
  box.dataset.nodes = String(graph.nodes().length);
  box.dataset.edges = String(graph.edges().length);
  graph.on("tap", "node", (event) => {
    const node = event.target;
    const kind = node.data("kind");
    if (kind === "prompt") location.hash = route("memory", node.data("key"));
    else if (kind === "response" && node.data("promptId")) location.hash = route("memory", node.data("promptId"));
  });
}
