// A run: the whole planned graph of its pinned definition coloured live from
// the run's event stream, a timeline, a drawer per node, and the actions that
// fit the run's state.
import * as api from "../api.js";
import { navigate } from "../router.js";
import { Graph } from "../graph.js";
import { h, Fragment, Status, ErrorText, Field, Action, Tabs, JsonView, when, duration, pretty, useLoad } from "../ui.js";
import { useEffect, useMemo, useRef, useState } from "../../vendor/preact-hooks.mjs";

const OPEN = new Set(["running", "paused", "suspended"]);
const runPath = (runId) => `/runs/${api.runSegment(runId)}`;

function suspendedNode(run, states) {
  if (run.status !== "suspended") return null;
  if (run.suspended_on) return run.suspended_on;
  const failed = Object.values(states).find((s) => s.status === "failed");
  return failed ? failed.id : null;
}

function JsonInput({ label, value, onChange }) {
  return h(Field, { label }, h("textarea", { class: "code", rows: 8, value, onInput: (e) => onChange(e.currentTarget.value), spellcheck: false }));
}

function parsed(text, what) {
  try {
    return text.trim() ? JSON.parse(text) : undefined;
  } catch (error) {
    throw new Error(`${what} is not JSON: ${error.message}`);
  }
}

function SuspendedActions({ runId, node, onDone }) {
  const [config, setConfig] = useState(pretty((node && node.config) || {}));
  const [output, setOutput] = useState("null");
  return h(
    "div",
    { class: "card suspended" },
    h("h3", null, `The run is suspended on ${node.id}`),
    h(JsonInput, { label: "Config for the retry (keys replace the node's)", value: config, onChange: setConfig }),
    h(Action, {
      label: "Retry node with this config",
      run: async () => {
        await api.post(`${runPath(runId)}/nodes/${encodeURIComponent(node.id)}/retry`, { config: parsed(config, "The config") ?? {} });
        onDone();
      },
    }),
    h(JsonInput, { label: "Output to skip with", value: output, onChange: setOutput }),
    h(Action, {
      label: "Skip node with this output",
      run: async () => {
        await api.post(`${runPath(runId)}/nodes/${encodeURIComponent(node.id)}/skip`, { output: parsed(output, "The output") ?? null });
        onDone();
      },
    }),
  );
}

function SignalForm({ runId, node }) {
  const config = node.config || {};
  const schema = config.schema;
  const props = schema && schema.type === "object" && schema.properties ? schema.properties : null;
  const [text, setText] = useState(props ? pretty(Object.fromEntries(Object.entries(props).map(([k, p]) => [k, p.default ?? (p.type === "number" || p.type === "integer" ? 0 : p.type === "boolean" ? false : "")]))) : "{}");
  const [sent, setSent] = useState(null);
  const name = String(config.signal || node.id);
  return h(
    "div",
    { class: "card" },
    h("h3", null, `Signal ${name}`),
    schema && h("details", null, h("summary", null, "The payload's schema"), h(JsonView, { value: schema, label: "signal schema" })),
    h(JsonInput, { label: "Signal payload (JSON)", value: text, onChange: setText }),
    h(Action, {
      label: `Send signal ${name}`,
      run: async () => {
        const answer = await api.post(`${runPath(runId)}/signals/${encodeURIComponent(name)}`, { payload: parsed(text, "The payload") ?? null });
        setSent(answer);
      },
    }),
    sent && h("p", { role: "status" }, "Signal accepted."),
  );
}

function Attempts({ detail }) {
  const list = Array.isArray(detail.attempt_log) && detail.attempt_log.length ? detail.attempt_log : null;
  return h(
    "div",
    null,
    h("h3", null, "Attempts"),
    h("p", null, `${detail.attempts ?? 0} attempt${detail.attempts === 1 ? "" : "s"}${detail.next_attempt_at ? `; next at ${when(detail.next_attempt_at)}` : ""}`),
    detail.last_error && h("div", { class: "error" }, h("strong", null, "Last error: "), `${detail.last_error.type}: ${detail.last_error.message}`),
    list &&
      h(
        "table",
        { class: "list", "aria-label": "Attempts" },
        h("thead", null, h("tr", null, ["#", "Outcome", "Started", "Took", "Error"].map((t) => h("th", { key: t, scope: "col" }, t)))),
        h(
          "tbody",
          null,
          list.map((a, i) =>
            h(
              "tr",
              { key: i },
              h("td", null, String(a.attempt ?? i + 1)),
              h("td", null, a.outcome ? h(Status, { status: a.outcome }) : "—"),
              h("td", null, when(a.started_at)),
              h("td", null, duration(a.started_at, a.ended_at)),
              h("td", null, a.error ? `${a.error_type ? `${a.error_type}: ` : ""}${typeof a.error === "string" ? a.error : a.error.message || ""}` : "—"),
            ),
          ),
        ),
      ),
  );
}

function Deliveries({ deliveries }) {
  if (!Array.isArray(deliveries)) return null;
  return h(
    "div",
    null,
    h("h3", null, "Webhook deliveries"),
    deliveries.length === 0
      ? h("p", null, "None yet.")
      : h(
          "table",
          { class: "list" },
          h("thead", null, h("tr", null, ["Attempt", "HTTP status", "Latency", "At", "Error"].map((t) => h("th", { key: t, scope: "col" }, t)))),
          h("tbody", null, deliveries.map((d, i) => h("tr", { key: i }, h("td", null, String(d.attempt ?? "")), h("td", null, String(d.status ?? "—")), h("td", null, d.latency_ms !== undefined && d.latency_ms !== null ? `${d.latency_ms} ms` : "—"), h("td", null, when(d.at)), h("td", null, d.error ? String(d.error) : "—")))),
        ),
  );
}

// The child runs a for_each's items ran in (past the batch threshold), each a
// link to its own run page; asked again as the node's progress moves on.
function Batches({ runId, node, version }) {
  const [batches, setBatches] = useState(null);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const path = `${runPath(runId)}/nodes/${encodeURIComponent(node.id)}/batches`;
  const more = async (from) => {
    try {
      const page = await api.get(`${path}${api.query({ limit: 200, cursor: from })}`);
      setBatches((old) => {
        const byId = new Map([...(from ? old || [] : []), ...page.items].map((b) => [b.run_id, b]));
        return [...byId.values()].sort((a, b) => a.first_item - b.first_item);
      });
      setCursor(page.next_cursor);
    } catch (err) {
      setError(err);
    }
  };
  useEffect(() => {
    more(null);
  }, [node.id, version]);
  if (error) return h(ErrorText, { error });
  if (!batches || batches.length === 0) return null;
  return h(
    "div",
    null,
    h("h3", null, "Batches"),
    h("p", { class: "muted" }, `The items ran in ${batches.length}${cursor ? "+" : ""} child run${batches.length === 1 ? "" : "s"}.`),
    h(
      "ul",
      { class: "batches", "aria-label": `Batches of ${node.id}` },
      batches.map((b) =>
        h("li", { key: b.run_id, "data-run-id": b.run_id, "data-status": b.status }, h("a", { href: api.runPage(b.run_id) }, `Items from ${b.first_item}`), " ", h(Status, { status: b.status })),
      ),
    ),
    cursor && h(Action, { label: "More batches", run: () => more(cursor) }),
  );
}

function Drawer({ run, runId, node, state, suspended, onClose, onChanged }) {
  const [detail, setDetail] = useState(null);
  const [error, setError] = useState(null);
  const version = `${state.status}/${state.attempts}`;
  useEffect(() => {
    let live = true;
    api.get(`${runPath(runId)}/nodes/${encodeURIComponent(node.id)}`).then(
      (d) => live && setDetail(d),
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [node.id, version]);
  const shown = { ...state, ...(detail || {}) };
  // The body is the value itself (whatever its type), never wrapped.
  const whole = () => api.get(`${runPath(runId)}/nodes/${encodeURIComponent(node.id)}/output`);
  const childRun = `${runId}/${node.id}`;
  const closeOnEscape = (event) => event.key === "Escape" && onClose();
  const heading = useRef(null);
  // Opening a node moves the focus into its drawer (Escape closes it again).
  useEffect(() => heading.current && heading.current.focus(), [node.id]);
  return h(
    "aside",
    { class: "drawer card", "aria-label": `Node ${node.id}`, onKeyDown: closeOnEscape },
    h("div", { class: "titlebar" }, h("h2", { ref: heading, tabindex: -1 }, `Node ${node.id}`), h("button", { type: "button", onClick: onClose }, "Close")),
    h("p", null, h(Status, { status: shown.status || "pending" }), ` ${node.type}`, shown.reused ? " · output reused from an earlier run" : ""),
    h("dl", { class: "figures" }, [
      ["Started", when(shown.started_at)],
      ["Ended", when(shown.ended_at)],
      ["Took", duration(shown.started_at, shown.ended_at)],
    ].map(([k, v]) => h("div", { key: k }, h("dt", null, k), h("dd", null, v)))),
    shown.progress && h("p", { class: "progress" }, `for_each: ${shown.progress.done ?? 0} done, ${shown.progress.failed ?? 0} failed, of ${shown.progress.total ?? "?"} items`),
    node.type === "for_each" && h(Batches, { runId, node, version: `${version}/${state.progress ? state.progress.done : ""}` }),
    node.type === "for_each" && node.config && node.config.body && h("details", { open: true }, h("summary", null, "The body each item runs"), h(Graph, { nodes: node.config.body.nodes, edges: node.config.body.edges, label: `Body of ${node.id}` })),
    node.type === "sub_workflow" && h("p", null, h("a", { href: api.runPage(childRun) }, `Child run ${childRun}`)),
    h("h3", null, "Config"),
    h(JsonView, { value: node.config ?? {}, label: "config" }),
    h("h3", null, "Output"),
    h(JsonView, { value: shown.output ?? null, label: "output", fetchWhole: whole }),
    shown.error && [h("h3", { key: "h" }, "Error"), h("div", { key: "e", class: "error" }, h("p", null, `${shown.error.type}: ${shown.error.message}`), shown.error.details && Object.keys(shown.error.details).length > 0 && h(JsonView, { value: shown.error.details, label: "error details" }))],
    h(Attempts, { detail: shown }),
    h(Deliveries, { deliveries: shown.deliveries }),
    error && h(ErrorText, { error }),
    suspended === node.id && h(SuspendedActions, { runId, node, onDone: onChanged }),
    node.type === "wait_for_signal" && OPEN.has(run.status) && h(SignalForm, { runId, node }),
    h(Action, {
      label: `Rerun from ${node.id}`,
      run: async () => {
        const answer = await api.post(`${runPath(runId)}/rerun`, { from_node: node.id });
        navigate(api.runPage(answer.run_id));
      },
    }),
  );
}

function Timeline({ run, nodes, states, onSelect }) {
  const rows = nodes.map((n) => ({ node: n, state: states[n.id] || {} }));
  const started = rows.map((r) => r.state.started_at && new Date(r.state.started_at).getTime()).filter(Boolean);
  const origin = run.started_at ? new Date(run.started_at).getTime() : Math.min(...started);
  const now = Date.now();
  const ends = rows.map((r) => (r.state.ended_at ? new Date(r.state.ended_at).getTime() : r.state.started_at ? now : 0));
  const last = Math.max(run.ended_at ? new Date(run.ended_at).getTime() : 0, ...ends, origin + 1);
  const span = last - origin || 1;
  const width = 640;
  const scale = (t) => ((t - origin) / span) * width;
  const drawn = rows.filter((r) => r.state.started_at);
  return h(
    "div",
    { class: "timeline" },
    h("p", { class: "muted" }, `${drawn.length} of ${rows.length} nodes started; the whole bar is ${duration(new Date(origin).toISOString(), new Date(last).toISOString())}.`),
    h(
      "table",
      { class: "list" },
      h("thead", null, h("tr", null, ["Node", "Status", "Attempts", "Start", "Took", "When"].map((t) => h("th", { key: t, scope: "col" }, t)))),
      h(
        "tbody",
        null,
        drawn.map(({ node, state }) => {
          const x = scale(new Date(state.started_at).getTime());
          const end = state.ended_at ? scale(new Date(state.ended_at).getTime()) : width;
          return h(
            "tr",
            { key: node.id, "data-node-id": node.id, "data-status": state.status },
            h("th", { scope: "row" }, h("button", { type: "button", class: "link", onClick: () => onSelect(node.id) }, node.id)),
            h("td", null, h(Status, { status: state.status })),
            h("td", null, String(state.attempts ?? 0), state.attempts > 1 ? " (retried)" : ""),
            h("td", null, `+${duration(new Date(origin).toISOString(), state.started_at)}`),
            h("td", null, duration(state.started_at, state.ended_at)),
            h(
              "td",
              null,
              h("svg", { width, height: 14, class: "bar", "aria-hidden": "true" }, h("rect", { x: x.toFixed(1), y: 2, width: Math.max(2, end - x).toFixed(1), height: 10, class: `status-${state.status}` })),
            ),
          );
        }),
      ),
    ),
  );
}

function RunActions({ run, runId, onChanged }) {
  const act = (name, confirm) =>
    h(Action, {
      key: name,
      label: name[0].toUpperCase() + name.slice(1),
      kind: name === "terminate" || name === "cancel" ? "danger" : "",
      confirm,
      run: async () => {
        await api.post(`${runPath(runId)}/${name}`);
        onChanged();
      },
    });
  const open = OPEN.has(run.status);
  return h(
    "div",
    { class: "actions", role: "group", "aria-label": "Run actions" },
    open && !run.paused && run.status === "running" && act("pause"),
    open && (run.paused || run.status === "paused") && act("resume"),
    open && act("cancel", "Cancel this run? Running nodes are cancelled."),
    open && act("terminate", "Terminate this run at once? Nothing cleans up."),
    h(Action, {
      label: "Rerun",
      run: async () => {
        const answer = await api.post(`${runPath(runId)}/rerun`, {});
        navigate(api.runPage(answer.run_id));
      },
    }),
    run.temporal && run.temporal.ui_url && h("a", { class: "button", href: run.temporal.ui_url, target: "_blank", rel: "noopener noreferrer" }, "Open in Temporal Web UI"),
  );
}

export function RunPage({ runId }) {
  const [run, setRun] = useState(null);
  const [definition, setDefinition] = useState(null);
  const [states, setStates] = useState({});
  const [error, setError] = useState(null);
  const [selected, setSelected] = useState(null);
  const [tab, setTab] = useState("graph");
  const [live, setLive] = useState("connecting");
  const pending = useRef({});
  const frame = useRef(0);
  const refreshTimer = useRef(null);
  const runRef = useRef(null);

  async function load() {
    try {
      const detail = await api.get(runPath(runId));
      performance.mark("flowforge:run-loaded");
      runRef.current = detail;
      setRun(detail);
      setStates((old) => {
        const next = { ...old };
        for (const n of detail.nodes || []) next[n.id] = { ...(old[n.id] || {}), ...n };
        return next;
      });
      return detail;
    } catch (err) {
      setError(err);
      return null;
    }
  }

  // A refresh after events (for outputs, for_each progress and suspended_on),
  // at most one a second however many events arrive: no polling loop.
  function refreshSoon() {
    if (refreshTimer.current) return;
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = null;
      load();
    }, 1000);
  }

  useEffect(() => {
    let stop = () => {};
    let alive = true;
    const nodesOnly = (detail) => ({ nodes: (detail.nodes || []).map((n) => ({ id: n.id, type: n.type })), edges: [] });
    // The pinned definition needs only the run id: asked for together with the
    // run, not after it.
    const pinned = api.get(`${runPath(runId)}/definition`).then(
      (answer) => answer.definition,
      () => null,
    );
    load().then(async (detail) => {
      if (!detail || !alive) return;
      pinned.then((found) => {
        performance.mark("flowforge:definition-loaded");
        if (alive) setDefinition(found || nodesOnly(detail));
      });
      // A run that has ended changes no more: no stream to follow.
      if (!OPEN.has(detail.status)) {
        setLive("closed");
        return;
      }
      stop = api.follow(
        `${runPath(runId)}/events`,
        ({ event, data }) => {
          if (!data || typeof data !== "object") return;
          if (event === "node" && data.node_id) {
            pending.current[data.node_id] = { ...(pending.current[data.node_id] || {}), ...data, id: data.node_id };
            if (!frame.current)
              frame.current = requestAnimationFrame(() => {
                frame.current = 0;
                const batch = pending.current;
                pending.current = {};
                setStates((old) => {
                  const next = { ...old };
                  for (const [id, s] of Object.entries(batch)) next[id] = { ...(old[id] || {}), ...s };
                  return next;
                });
              });
          } else if (event === "run") {
            setRun((old) => (old ? { ...old, status: data.status ?? old.status, paused: data.paused ?? old.paused, ended_at: data.ended_at ?? old.ended_at } : old));
            if (runRef.current) runRef.current = { ...runRef.current, status: data.status ?? runRef.current.status };
          }
          refreshSoon();
        },
        { done: () => runRef.current && !OPEN.has(runRef.current.status), onState: (state) => setLive(state) },
      );
    });
    return () => {
      alive = false;
      stop();
      clearTimeout(refreshTimer.current);
      cancelAnimationFrame(frame.current);
    };
  }, [runId]);

  const nodes = useMemo(() => ((definition && definition.nodes) || []).filter((n) => n && typeof n.id === "string"), [definition]);
  if (error) return h("section", null, h("h1", null, "Run"), h(ErrorText, { error }));
  if (!run) return h("p", null, "Loading run…");
  const suspended = suspendedNode(run, states);
  const selectedNode = nodes.find((n) => n.id === selected);
  const counts = {};
  for (const n of nodes) {
    const s = (states[n.id] && states[n.id].status) || "pending";
    counts[s] = (counts[s] || 0) + 1;
  }
  return h(
    "section",
    { class: "run" },
    h("div", { class: "titlebar" }, h("h1", null, "Run ", h("span", { class: "mono" }, run.run_id)), h(Status, { status: run.paused && run.status === "running" ? "paused" : run.status })),
    h(
      "p",
      { class: "muted" },
      run.workflow_id ? h("a", { href: `/ui/workflows/${run.workflow_id}` }, `${(definition && definition.name) || "workflow"} v${run.version}`) : "—",
      ` · trigger ${run.trigger || "—"} · started ${when(run.started_at)} · ${duration(run.started_at, run.ended_at)}`,
      ` · ${live === "open" ? "live" : OPEN.has(run.status) ? "reconnecting…" : "finished"}`,
      run.arm && [" · rollout arm ", h("span", { key: "arm" }, run.arm)],
      run.trace_id && [" · trace ", h("span", { key: "trace", class: "mono", title: "OpenTelemetry trace id" }, run.trace_id)],
    ),
    h("p", { class: "counts", "aria-label": "Nodes by status" }, Object.entries(counts).map(([s, n]) => h("span", { key: s, class: `count status-${s}` }, `${n} ${s}`))),
    h(RunActions, { run, runId, onChanged: load }),
    suspended && h("p", { class: "error", role: "status" }, `Suspended on node ${suspended}: open it to retry with an edited config or skip it with an output.`, " ", h("button", { type: "button", onClick: () => setSelected(suspended) }, `Open ${suspended}`)),
    run.error && h("div", { class: "error", role: "alert" }, h("strong", null, "Run error: "), `${run.error.type}: ${run.error.message}`),
    h(Tabs, {
      label: "Run",
      active: tab,
      onChange: setTab,
      tabs: [
        ["graph", "Graph"],
        ["timeline", "Timeline"],
        ["data", "Input and output"],
      ],
    }),
    h(
      "div",
      { class: selectedNode ? "split with-drawer" : "split" },
      h(
        "div",
        { role: "tabpanel", class: "panel" },
        tab === "graph" && (definition ? h(Graph, { nodes, edges: definition.edges, states, selected, onSelect: setSelected, label: "Run graph" }) : h("p", null, "Loading the definition…")),
        tab === "timeline" && h(Timeline, { run, nodes, states, onSelect: setSelected }),
        tab === "data" &&
          h(
            Fragment,
            null,
            h("h2", null, "Input"),
            h(JsonView, { value: run.input, label: "run input" }),
            h("h2", null, "Output"),
            h(JsonView, { value: run.output, label: "run output", fetchWhole: () => api.get(`${runPath(runId)}/output`) }),
            run.error && [h("h2", { key: "h" }, "Error"), h(JsonView, { key: "e", value: run.error, label: "run error" })],
          ),
      ),
      selectedNode && h(Drawer, { run, runId, node: selectedNode, state: states[selectedNode.id] || { id: selectedNode.id }, suspended, onClose: () => {
            const id = selectedNode.id;
            setSelected(null);
            requestAnimationFrame(() => document.querySelector(`.graph [data-node-id="${CSS.escape(id)}"]`)?.focus());
          }, onChanged: load }),
    ),
  );
}
