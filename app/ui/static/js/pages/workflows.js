// Workflows: the list, and a workflow's page (graph, runs, versions, metrics, triggers).
import * as api from "../api.js";
import { navigate } from "../router.js";
import { Graph } from "../graph.js";
import { Chart } from "../charts.js";
import { RunsTable } from "./runs.js";
import { ScheduleList, HookList } from "./ops.js";
import { h, Status, useLoad, ErrorText, Field, Action, Tabs, JsonView, when, ms, pretty } from "../ui.js";
import { useEffect, useMemo, useState } from "../../vendor/preact-hooks.mjs";

function percent(value) {
  return typeof value === "number" ? `${Math.round(value * 100)} %` : "—";
}

function RowFigures({ workflow }) {
  const [figures, setFigures] = useState({ last: workflow.last_run_status, rate: workflow.success_rate });
  useEffect(() => {
    if (workflow.last_run_status !== undefined && workflow.success_rate !== undefined) return;
    let live = true;
    Promise.allSettled([
      api.get(`/workflows/${workflow.id}/metrics`),
      api.get(`/runs${api.query({ workflow_id: workflow.id, limit: 1 })}`),
    ]).then(([metrics, runs]) => {
      if (!live) return;
      setFigures({
        rate: metrics.status === "fulfilled" ? metrics.value.success_rate : undefined,
        last: runs.status === "fulfilled" && runs.value.items[0] ? runs.value.items[0].status : null,
      });
    });
    return () => {
      live = false;
    };
  }, [workflow.id]);
  return [
    h("td", { key: "last" }, figures.last ? h(Status, { status: figures.last }) : figures.last === null ? "no runs" : "…"),
    h("td", { key: "rate" }, percent(figures.rate)),
  ];
}

export function WorkflowsPage() {
  const [items, setItems] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [error, setError] = useState(null);
  const [loaded, setLoaded] = useState(false);
  const [search, setSearch] = useState("");
  const [tag, setTag] = useState(null);
  // The server searches names and descriptions (?q=) and filters by tag (?tag=);
  // an API without them answers everything, and the list is filtered here as well.
  async function load(after) {
    try {
      const page = await api.get(`/workflows${api.query({ limit: 100, cursor: after, q: search.trim() || undefined, tag: tag || undefined })}`);
      setItems((old) => (after ? [...old, ...page.items] : page.items));
      setCursor(page.next_cursor);
      setLoaded(true);
      setError(null);
    } catch (err) {
      setError(err);
    }
  }
  useEffect(() => {
    const timer = setTimeout(() => load(null), search ? 250 : 0);
    return () => clearTimeout(timer);
  }, [search, tag]);
  const needle = search.trim().toLowerCase();
  const shown = items.filter(
    (w) => (!needle || [w.name, w.description].some((t) => t && String(t).toLowerCase().includes(needle))) && (!tag || (w.tags || []).includes(tag)),
  );
  return h(
    "section",
    null,
    h("div", { class: "titlebar" }, h("h1", null, "Workflows"), h("a", { class: "button", href: "/ui/workflows/new" }, "New workflow")),
    h(Field, { label: "Search workflows" }, h("input", { type: "search", value: search, onInput: (e) => setSearch(e.currentTarget.value), placeholder: "name or description" })),
    tag && h("p", null, `Tagged ${tag} `, h("button", { type: "button", onClick: () => setTag(null) }, "Show every tag")),
    error && h(ErrorText, { error }),
    h(
      "table",
      { class: "list" },
      h("thead", null, h("tr", null, ["Name", "Active version", "Last run", "Success rate", "Tags"].map((t) => h("th", { scope: "col", key: t }, t)))),
      h(
        "tbody",
        null,
        shown.map((w) =>
          h(
            "tr",
            { key: w.id },
            h("td", null, h("a", { href: `/ui/workflows/${w.id}` }, w.name), w.description && h("div", { class: "muted" }, w.description)),
            h("td", null, `v${w.active_version}${w.version !== w.active_version ? ` (newest v${w.version})` : ""}`),
            h(RowFigures, { workflow: w }),
            h("td", null, (w.tags || []).length ? (w.tags || []).map((t) => h("button", { type: "button", class: "tag", key: t, "aria-label": `Only workflows tagged ${t}`, onClick: () => setTag(t) }, t)) : "—"),
          ),
        ),
      ),
    ),
    loaded && !shown.length && h("p", null, needle ? "No workflow matches." : "No workflows yet."),
    cursor && h("button", { type: "button", onClick: () => load(cursor) }, "Load more"),
  );
}

// A form built from input_schema (flat object of simple types), or raw JSON.
export function StartRunForm({ workflow, definition, onStarted }) {
  const schema = definition && definition.input_schema;
  const properties = schema && schema.type === "object" && schema.properties && typeof schema.properties === "object" ? schema.properties : null;
  const simple = properties && Object.values(properties).every((p) => p && ["string", "number", "integer", "boolean"].includes(p.type));
  const [raw, setRaw] = useState(!simple);
  const [text, setText] = useState("{}");
  const [error, setError] = useState(null);
  const required = new Set((schema && schema.required) || []);
  async function submit(event) {
    event.preventDefault();
    setError(null);
    let input;
    if (raw) {
      try {
        input = JSON.parse(text || "{}");
      } catch (err) {
        setError(new Error(`The input is not JSON: ${err.message}`));
        return;
      }
    } else {
      input = {};
      const form = new FormData(event.currentTarget);
      for (const [name, prop] of Object.entries(properties)) {
        const value = form.get(name);
        if (prop.type === "boolean") input[name] = value === "on";
        else if (value === null || value === "") continue;
        else if (prop.type === "number" || prop.type === "integer") input[name] = Number(value);
        else input[name] = String(value);
      }
    }
    try {
      const started = await api.post(`/workflows/${workflow.id}/runs`, { input });
      onStarted ? onStarted(started) : navigate(api.runPage(started.run_id));
    } catch (err) {
      setError(err);
    }
  }
  return h(
    "form",
    { class: "card", onSubmit: submit, "aria-label": "Start a run" },
    h("h2", null, "Start a run"),
    simple &&
      h("label", { class: "inline" }, h("input", { type: "checkbox", checked: raw, onChange: (e) => setRaw(e.currentTarget.checked) }), " Raw JSON input"),
    raw
      ? h(Field, { label: "Input (JSON)" }, h("textarea", { rows: 6, value: text, onInput: (e) => setText(e.currentTarget.value), spellcheck: false, class: "code" }))
      : Object.entries(properties).map(([name, prop]) =>
          h(
            Field,
            { key: name, label: `${name}${required.has(name) ? " (required)" : ""}`, hint: prop.description },
            prop.type === "boolean"
              ? h("input", { type: "checkbox", name })
              : prop.enum
                ? h("select", { name, required: required.has(name) }, prop.enum.map((v) => h("option", { key: String(v), value: String(v) }, String(v))))
                : h("input", { name, type: prop.type === "string" ? "text" : "number", step: prop.type === "integer" ? 1 : "any", required: required.has(name), value: prop.default ?? "" }),
          ),
        ),
    h("button", { type: "submit" }, "Start run"),
    error && h(ErrorText, { error }),
  );
}

function VersionsTab({ workflow, reload }) {
  const [versions, error, again] = useLoad(() => api.get(`/workflows/${workflow.id}/versions?limit=200`), [workflow.id, workflow.active_version]);
  const [picked, setPicked] = useState([]);
  const [diff, setDiff] = useState(null);
  function pick(version, on) {
    setPicked((old) => (on ? [...old.filter((v) => v !== version), version].slice(-2) : old.filter((v) => v !== version)));
  }
  async function compare() {
    const [a, b] = [...picked].sort((x, y) => x - y);
    const [left, right] = await Promise.all([a, b].map((v) => api.get(`/workflows/${workflow.id}/versions/${v}`)));
    const parts = window.Diff ? window.Diff.diffLines(pretty(left.definition), pretty(right.definition)) : [{ value: "The diff library did not load." }];
    setDiff({ a, b, parts });
  }
  if (error) return h(ErrorText, { error });
  if (!versions) return h("p", null, "Loading versions…");
  return h(
    "div",
    null,
    h(
      "table",
      { class: "list" },
      h("thead", null, h("tr", null, ["Compare", "Version", "Saved", "Hash", ""].map((t, i) => h("th", { scope: "col", key: i }, t)))),
      h(
        "tbody",
        null,
        versions.items.map((v) =>
          h(
            "tr",
            { key: v.version },
            h("td", null, h("input", { type: "checkbox", "aria-label": `compare version ${v.version}`, checked: picked.includes(v.version), onChange: (e) => pick(v.version, e.currentTarget.checked) })),
            h("td", null, `v${v.version}`, v.active && h("span", { class: "tag" }, "active")),
            h("td", null, when(v.created_at)),
            h("td", { class: "mono" }, String(v.content_hash).slice(0, 12)),
            h(
              "td",
              null,
              !v.active &&
                h(Action, {
                  label: `Activate v${v.version}`,
                  run: async () => {
                    await api.post(`/workflows/${workflow.id}/versions/${v.version}/activate`);
                    reload();
                    again();
                  },
                }),
            ),
          ),
        ),
      ),
    ),
    h(Action, { label: "Compare the two checked versions", run: compare, disabled: picked.length !== 2 }),
    diff &&
      h(
        "figure",
        { class: "diff" },
        h("figcaption", null, `Changes from v${diff.a} to v${diff.b}`),
        h(
          "pre",
          { tabindex: 0 },
          diff.parts.map((part, i) =>
            h("span", { key: i, class: part.added ? "added" : part.removed ? "removed" : "same" }, part.value.replace(/^(?=.)/gm, part.added ? "+ " : part.removed ? "- " : "  ")),
          ),
        ),
      ),
  );
}

function bucketRuns(runs) {
  // Runs by status per hour (or per day past two days of runs), oldest first.
  const times = runs.map((r) => new Date(r.started_at).getTime()).filter((t) => !Number.isNaN(t));
  if (!times.length) return { x: [], series: [] };
  const span = Math.max(...times) - Math.min(...times);
  const step = span > 2 * 86400000 ? 86400000 : 3600000;
  const buckets = new Map();
  for (const run of runs) {
    const t = new Date(run.started_at).getTime();
    if (Number.isNaN(t)) continue;
    const key = Math.floor(t / step) * step;
    const counts = buckets.get(key) || { succeeded: 0, failed: 0, other: 0 };
    if (run.status === "succeeded") counts.succeeded += 1;
    else if (["failed", "timed_out", "terminated"].includes(run.status)) counts.failed += 1;
    else counts.other += 1;
    buckets.set(key, counts);
  }
  // Every bucket from one before the first run to one after the last, empty ones at 0
  // (at most 200: past that, only the buckets with runs).
  const seen = [...buckets.keys()].sort((a, b) => a - b);
  const first = seen[0] - step;
  const last = seen[seen.length - 1] + step;
  const keys = (last - first) / step <= 200 ? Array.from({ length: (last - first) / step + 1 }, (_v, i) => first + i * step) : seen;
  for (const k of keys) if (!buckets.has(k)) buckets.set(k, { succeeded: 0, failed: 0, other: 0 });
  return {
    x: keys.map((k) => k / 1000),
    series: ["succeeded", "failed", "other"].map((label) => ({ label, values: keys.map((k) => buckets.get(k)[label]) })),
  };
}

function quantile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function MetricsTab({ workflow }) {
  const [data, error] = useLoad(async () => {
    const [metrics, runs] = await Promise.all([
      api.get(`/workflows/${workflow.id}/metrics`),
      api.get(`/runs${api.query({ workflow_id: workflow.id, limit: 200 })}`),
    ]);
    return { metrics, runs: runs.items };
  }, [workflow.id]);
  const derived = useMemo(() => {
    if (!data) return null;
    // The API's own timeline when it has one (every run in the window, by bucket),
    // else buckets of the newest 200 runs counted here.
    const line = data.metrics.timeline;
    if (line && Array.isArray(line.buckets) && line.buckets.length) {
      const x = line.buckets.map((b) => new Date(b.start).getTime() / 1000);
      const count = (b, names) => names.reduce((n, name) => n + ((b.runs && b.runs[name]) || 0), 0);
      const byStatus = {
        x,
        series: [
          { label: "succeeded", values: line.buckets.map((b) => count(b, ["succeeded"])) },
          { label: "failed", values: line.buckets.map((b) => count(b, ["failed", "timed_out", "terminated"])) },
          { label: "other", values: line.buckets.map((b) => (b.total ?? 0) - count(b, ["succeeded", "failed", "timed_out", "terminated"])) },
        ],
      };
      const nodes = Object.entries(data.metrics.nodes || {});
      return { byStatus, durations: { x, p50: line.buckets.map((b) => b.p50_ms ?? null), p95: line.buckets.map((b) => b.p95_ms ?? null) }, nodes };
    }
    const byStatus = bucketRuns(data.runs);
    const finished = data.runs.filter((r) => r.started_at && r.ended_at).sort((a, b) => new Date(a.started_at) - new Date(b.started_at));
    const step = finished.length > 40 ? Math.ceil(finished.length / 40) : 1;
    const x = [];
    const p50 = [];
    const p95 = [];
    for (let i = 0; i < finished.length; i += step) {
      const window = finished.slice(Math.max(0, i - 20), i + step).map((r) => new Date(r.ended_at) - new Date(r.started_at)).sort((a, b) => a - b);
      x.push(new Date(finished[Math.min(i + step - 1, finished.length - 1)].started_at).getTime() / 1000);
      p50.push(quantile(window, 0.5));
      p95.push(quantile(window, 0.95));
    }
    const nodes = Object.entries(data.metrics.nodes || {});
    return { byStatus, durations: { x, p50, p95 }, nodes };
  }, [data]);
  if (error) return h(ErrorText, { error });
  if (!data) return h("p", null, "Loading metrics…");
  const m = data.metrics;
  const runs = m.runs || {};
  return h(
    "div",
    { class: "metrics" },
    h(
      "dl",
      { class: "figures" },
      [
        ["Runs", runs.total],
        ["Succeeded", runs.succeeded],
        ["Failed", runs.failed],
        ["Running", runs.running],
        ["Success rate", percent(m.success_rate)],
        ["p50 duration", ms(m.duration_ms && m.duration_ms.p50)],
        ["p95 duration", ms(m.duration_ms && m.duration_ms.p95)],
      ].map(([k, v]) => h("div", { key: k }, h("dt", null, k), h("dd", null, String(v ?? "—")))),
    ),
    h(Chart, { title: "Runs by status over time", x: derived.byStatus.x, series: derived.byStatus.series }),
    h(Chart, { title: "Run duration p50 / p95 (ms)", x: derived.durations.x, series: [{ label: "p50 ms", values: derived.durations.p50 }, { label: "p95 ms", values: derived.durations.p95 }] }),
    h(Chart, {
      title: "Failures and retries per node",
      x: derived.nodes.map((_n, i) => i),
      xLabels: derived.nodes.map(([id]) => id),
      time: false,
      bars: true,
      series: [
        { label: "failures", values: derived.nodes.map(([, n]) => n.failures ?? 0) },
        { label: "retries", values: derived.nodes.map(([, n]) => n.retries ?? 0) },
      ],
    }),
  );
}

function DefinitionTab({ definition }) {
  const [selected, setSelected] = useState(null);
  const node = (definition.nodes || []).find((n) => n && n.id === selected);
  return h(
    "div",
    { class: "split" },
    h(Graph, { nodes: definition.nodes, edges: definition.edges, onSelect: setSelected, selected, label: "Definition graph" }),
    h(
      "aside",
      { class: "card" },
      node ? [h("h2", { key: "t" }, `Node ${node.id}`), h(JsonView, { key: "v", value: node, label: "node definition" })] : [h("h2", { key: "t" }, "Definition"), h(JsonView, { key: "v", value: definition, label: "definition" })],
    ),
  );
}

export function WorkflowPage({ workflowId }) {
  const [workflow, error, reload] = useLoad(() => api.get(`/workflows/${workflowId}`), [workflowId]);
  const [tab, setTab] = useState("graph");
  if (error) return h(ErrorText, { error });
  if (!workflow) return h("p", null, "Loading workflow…");
  const definition = workflow.definition || {};
  return h(
    "section",
    null,
    h(
      "div",
      { class: "titlebar" },
      h("h1", null, workflow.name),
      h(
        "div",
        { class: "actions" },
        h("a", { class: "button", href: `/ui/workflows/${workflow.id}/edit` }, "Edit definition"),
        h(Action, {
          label: "Delete workflow",
          kind: "danger",
          confirm: `Delete ${workflow.name}? Runs in flight continue; triggers stop.`,
          run: async () => {
            await api.del(`/workflows/${workflow.id}`);
            navigate("/ui/workflows");
          },
        }),
      ),
    ),
    workflow.description && h("p", null, workflow.description),
    h("p", { class: "muted" }, `Active version v${workflow.active_version} of ${workflow.version} · id ${workflow.id}`),
    h(Tabs, {
      label: "Workflow",
      active: tab,
      onChange: setTab,
      tabs: [
        ["graph", "Graph"],
        ["runs", "Runs"],
        ["start", "Start a run"],
        ["versions", "Versions"],
        ["metrics", "Metrics"],
        ["triggers", "Schedules and hooks"],
      ],
    }),
    h(
      "div",
      { role: "tabpanel", class: "panel" },
      tab === "graph" && h(DefinitionTab, { definition }),
      tab === "runs" && h(RunsTable, { fixed: { workflow_id: workflow.id } }),
      tab === "start" && h(StartRunForm, { workflow, definition }),
      tab === "versions" && h(VersionsTab, { workflow, reload }),
      tab === "metrics" && h(MetricsTab, { workflow }),
      tab === "triggers" && [h(ScheduleList, { key: "s", workflow }), h(HookList, { key: "h", workflow })],
    ),
  );
}
