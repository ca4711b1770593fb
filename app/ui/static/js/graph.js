// A definition drawn as a graph: laid out by dagre, drawn as SVG. Each node is
// a <g> carrying data-node-id and data-status (a contract for tests and users'
// scripts), focusable, and activated with Enter or Space as well as a click.
import dagre from "../vendor/dagre.esm.js";
import { Component } from "../vendor/preact.mjs";
import { h, STATUS_TEXT } from "./ui.js";
import { useEffect, useMemo, useRef } from "../vendor/preact-hooks.mjs";

const WIDTH = 176;
const HEIGHT = 54;

// Past this many nodes the graph is laid out in layers here rather than by
// dagre: ranks by longest path, each column ordered by its predecessors' mean
// position, edges drawn straight. Some milliseconds for 500 nodes where dagre
// takes half a second; dagre's crossing reduction and edge routing matter less
// on a graph that size than drawing it at once.
const BIG = 150;
const NODESEP = 18;
const RANKSEP = 48;
const MARGIN = 12;

function layeredLayout(nodes, edges) {
  const ids = [];
  const known = new Set();
  for (const node of nodes) {
    if (!node || typeof node.id !== "string" || known.has(node.id)) continue;
    known.add(node.id);
    ids.push(node.id);
  }
  const next = new Map(ids.map((id) => [id, []]));
  const before = new Map(ids.map((id) => [id, []]));
  const kept = [];
  edges.forEach((edge, index) => {
    if (!edge || !known.has(edge.from) || !known.has(edge.to) || edge.from === edge.to) return;
    next.get(edge.from).push(edge.to);
    before.get(edge.to).push(edge.from);
    kept.push([edge, index]);
  });
  // Longest-path ranks in topological order (a cycle's nodes keep the rank reached so far).
  const rank = new Map(ids.map((id) => [id, 0]));
  const waiting = new Map(ids.map((id) => [id, before.get(id).length]));
  const queue = ids.filter((id) => waiting.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const from = queue[i];
    for (const to of next.get(from)) {
      rank.set(to, Math.max(rank.get(to), rank.get(from) + 1));
      waiting.set(to, waiting.get(to) - 1);
      if (waiting.get(to) === 0) queue.push(to);
    }
  }
  const columns = [];
  for (const id of ids) (columns[rank.get(id)] ||= []).push(id);
  const row = new Map();
  columns.forEach((column) => {
    const order = column.map((id, i) => {
      const from = before.get(id).filter((p) => row.has(p));
      return [id, from.length ? from.reduce((sum, p) => sum + row.get(p), 0) / from.length : i];
    });
    order.sort((a, b) => a[1] - b[1]);
    order.forEach(([id], i) => row.set(id, i));
  });
  const placed = new Map();
  let rows = 1;
  columns.forEach((column, r) => {
    rows = Math.max(rows, column.length);
    for (const id of column) {
      placed.set(id, { x: MARGIN + r * (WIDTH + RANKSEP) + WIDTH / 2, y: MARGIN + row.get(id) * (HEIGHT + NODESEP) + HEIGHT / 2, width: WIDTH, height: HEIGHT });
    }
  });
  const lines = kept.map(([edge, index]) => {
    const a = placed.get(edge.from);
    const b = placed.get(edge.to);
    return { key: String(index), from: edge.from, to: edge.to, points: [{ x: a.x + WIDTH / 2, y: a.y }, { x: b.x - WIDTH / 2, y: b.y }], edge };
  });
  const width = 2 * MARGIN + columns.length * WIDTH + Math.max(columns.length - 1, 0) * RANKSEP;
  const height = 2 * MARGIN + rows * HEIGHT + (rows - 1) * NODESEP;
  return { placed, lines, width: Math.max(width, WIDTH), height: Math.max(height, HEIGHT) };
}

function layoutOf(nodes, edges) {
  const began = performance.now();
  if (nodes.length > BIG) {
    const laid = layeredLayout(nodes, edges);
    performance.measure("flowforge:layout", { start: began, detail: { nodes: nodes.length, layered: true } });
    return laid;
  }
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: "LR", nodesep: NODESEP, ranksep: RANKSEP, marginx: MARGIN, marginy: MARGIN });
  graph.setDefaultEdgeLabel(() => ({}));
  const ids = new Set();
  for (const node of nodes) {
    if (!node || typeof node.id !== "string" || ids.has(node.id)) continue;
    ids.add(node.id);
    graph.setNode(node.id, { width: WIDTH, height: HEIGHT });
  }
  edges.forEach((edge, index) => {
    if (edge && ids.has(edge.from) && ids.has(edge.to)) graph.setEdge(edge.from, edge.to, {}, String(index));
  });
  dagre.layout(graph);
  const placed = new Map();
  for (const id of graph.nodes()) placed.set(id, graph.node(id));
  const lines = graph.edges().map((e) => ({ key: e.name, from: e.v, to: e.w, points: graph.edge(e).points || [], edge: edges[Number(e.name)] }));
  const size = graph.graph();
  performance.measure("flowforge:layout", { start: began, detail: { nodes: nodes.length } });
  return { placed, lines, width: Math.max(size.width || 0, WIDTH), height: Math.max(size.height || 0, HEIGHT) };
}

function path(points) {
  return points.map((p, i) => `${i ? "L" : "M"}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(" ");
}

function short(text, max) {
  const value = String(text ?? "");
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
}

function badgeOf(node, state) {
  const progress = state && state.progress;
  if (progress && typeof progress === "object" && progress.total !== undefined) {
    return `${progress.done ?? 0} done / ${progress.failed ?? 0} failed / ${progress.total}`;
  }
  if (state && state.attempts > 1) return `attempt ${state.attempts}`;
  return null;
}

// One drawn node. A live event changes one node's status: only the nodes
// whose drawn props changed render again, not all of a 500-node graph.
class GraphNode extends Component {
  shouldComponentUpdate(next) {
    const now = this.props;
    return next.box !== now.box || next.node !== now.node || next.status !== now.status || next.badge !== now.badge || next.selected !== now.selected;
  }

  render({ id, box, node, status, badge, selected }) {
    const x = box.x - WIDTH / 2;
    const y = box.y - HEIGHT / 2;
    const text = STATUS_TEXT[status] || status;
    const pick = () => this.props.onPick(id);
    return h(
      "g",
      {
        class: `node status-${status}${selected ? " selected" : ""}${node.type === "for_each" ? " fanout" : ""}`,
        "data-node-id": id,
        "data-status": status,
        "data-type": node.type || "",
        transform: `translate(${x.toFixed(1)},${y.toFixed(1)})`,
        tabindex: 0,
        role: "button",
        "aria-label": `node ${id}: ${node.type || "?"}, ${text}${badge ? `, ${badge}` : ""}`,
        "aria-pressed": selected ? "true" : "false",
        onClick: pick,
        onKeyDown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            pick();
          }
        },
      },
      h("title", null, `${id} (${node.type || "?"}): ${text}`),
      h("rect", { width: WIDTH, height: HEIGHT, rx: 6 }),
      h("text", { x: 10, y: 20, class: "node-id" }, short(id, 22)),
      h("text", { x: 10, y: 38, class: "node-meta" }, short(`${node.type || "?"} · ${text}`, 26)),
      badge && h("text", { x: WIDTH - 8, y: HEIGHT - 6, class: "node-badge", "text-anchor": "end" }, short(badge, 30)),
    );
  }
}

const NO_NODE = {};

// nodes, edges: the definition's; states: {id: {status, attempts, progress}};
// marked: Set of ids with problems; selected: id; onSelect(id).
export function Graph({ nodes, edges, states, marked, selected, onSelect, label }) {
  const safeNodes = Array.isArray(nodes) ? nodes : [];
  const safeEdges = Array.isArray(edges) ? edges : [];
  // The layout depends on the ids and edges alone: status changes never lay out again.
  const shape = useMemo(() => JSON.stringify([safeNodes.map((n) => n && n.id), safeEdges.map((e) => e && [e.from, e.to])]), [nodes, edges]);
  const layout = useMemo(() => {
    try {
      return layoutOf(safeNodes, safeEdges);
    } catch (error) {
      return { error };
    }
  }, [shape]);
  const byId = useMemo(() => new Map(safeNodes.filter((n) => n && typeof n.id === "string").map((n) => [n.id, n])), [nodes]);
  // The nodes get one stable callback, which reads the newest onSelect.
  const latest = useRef(onSelect);
  latest.current = onSelect;
  const pick = useMemo(() => (id) => latest.current && latest.current(id), []);
  // The edges' vnodes are made once per layout: preact skips a vnode it saw before.
  const lines = useMemo(
    () =>
      layout.error
        ? null
        : h(
            "g",
            { class: "edges" },
            layout.lines.map((line) =>
              h("path", {
                key: line.key,
                d: path(line.points),
                class: `edge edge-${(line.edge && line.edge.on) || "success"}${line.edge && line.edge.when ? " edge-when" : ""}`,
                "marker-end": "url(#arrow)",
              }),
            ),
          ),
    [layout],
  );
  useEffect(() => {
    performance.mark("flowforge:graph-drawn");
  }, [layout]);
  if (layout.error) return h("p", { class: "error" }, `The graph cannot be drawn: ${layout.error.message}`);
  return h(
    "div",
    { class: "graph", role: "group", "aria-label": label || "Workflow graph" },
    h(
      "svg",
      { width: layout.width, height: layout.height, viewBox: `0 0 ${layout.width} ${layout.height}`, xmlns: "http://www.w3.org/2000/svg" },
      h(
        "defs",
        null,
        h("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, h("path", { d: "M0,0 L10,5 L0,10 z", class: "arrowhead" })),
      ),
      lines,
      [...layout.placed].map(([id, box]) => {
        const node = byId.get(id) || NO_NODE;
        const state = (states && states[id]) || NO_NODE;
        const status = marked && marked.has(id) ? "invalid" : state.status || "pending";
        return h(GraphNode, { key: id, id, box, node, status, badge: badgeOf(node, state), selected: selected === id, onPick: pick });
      }),
    ),
  );
}
