// Runs: a list filtered and paged by the server, newest first. Rows change
// live from the one cross-run event stream (when the API has it), never by
// polling each row.
import * as api from "../api.js";
import { navigate } from "../router.js";
import { h, Status, ErrorText, Field, when, duration, useLoad } from "../ui.js";
import { useEffect, useRef, useState } from "../../vendor/preact-hooks.mjs";

const STATUSES = ["running", "paused", "suspended", "succeeded", "failed", "cancelled", "terminated", "timed_out"];
const TRIGGERS = ["api", "schedule", "webhook", "event", "rerun", "sub_workflow"];
const FILTERS = ["workflow_id", "status", "failed", "trigger", "started_after", "started_before"];

function filtersFromUrl() {
  const params = new URLSearchParams(location.search);
  const found = {};
  for (const key of FILTERS) if (params.get(key)) found[key] = params.get(key);
  return found;
}

function toIso(local) {
  if (!local) return undefined;
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function Counts({ counts }) {
  if (!counts || typeof counts !== "object") return "—";
  const shown = Object.entries(counts).filter(([, n]) => n);
  if (!shown.length) return "—";
  return h("span", { class: "counts" }, shown.map(([status, n]) => h("span", { key: status, class: `count status-${status}` }, `${n} ${status}`)));
}

export function RunsTable({ fixed = {}, urlState = false, pageSize = 50 }) {
  const [filters, setFilters] = useState(urlState ? filtersFromUrl() : {});
  const [cursors, setCursors] = useState([null]);
  const [page, setPage] = useState(null);
  const [error, setError] = useState(null);
  const [fresh, setFresh] = useState(0);
  const [streaming, setStreaming] = useState(false);
  const rows = useRef(new Map());
  const [, bump] = useState(0);
  const workflows = useLoad(() => (fixed.workflow_id ? null : api.get("/workflows?limit=200")), [fixed.workflow_id])[0];
  const names = new Map(((workflows && workflows.items) || []).map((w) => [w.id, w.name]));
  const cursor = cursors[cursors.length - 1];
  const all = { ...filters, ...fixed };
  const params = {
    workflow_id: all.workflow_id,
    status: all.status,
    failed: all.failed ? "true" : undefined,
    trigger: all.trigger,
    started_after: toIso(all.started_after),
    started_before: toIso(all.started_before),
  };
  const key = JSON.stringify(params);

  useEffect(() => {
    let live = true;
    setError(null);
    api.get(`/runs${api.query({ ...params, limit: pageSize, cursor })}`).then(
      (data) => {
        if (!live) return;
        rows.current = new Map(data.items.map((r) => [r.run_id, r]));
        setPage(data);
        setFresh(0);
      },
      (err) => live && setError(err),
    );
    return () => {
      live = false;
    };
  }, [key, cursor]);

  // One stream for the whole list: status changes of every run of the caller.
  useEffect(() => {
    const stop = api.follow(
      `/events/stream${api.query({ workflow_id: params.workflow_id })}`,
      ({ event, data }) => {
        if (event !== "run" || !data || typeof data !== "object") return;
        const id = data.run_id;
        if (!id) return;
        const row = rows.current.get(id);
        if (row) {
          rows.current.set(id, { ...row, ...data, node_counts: data.node_counts ?? row.node_counts });
          bump((n) => n + 1);
        } else if (!cursor && (!params.workflow_id || data.workflow_id === params.workflow_id)) {
          setFresh((n) => n + 1);
        }
      },
      { onState: (state) => setStreaming(state === "open") },
    );
    return stop;
  }, [key, cursor]);

  function set(name, value) {
    const next = { ...filters, [name]: value || undefined };
    if (!value) delete next[name];
    setFilters(next);
    setCursors([null]);
    if (urlState) {
      const search = api.query(next);
      history.replaceState(null, "", location.pathname + search);
    }
  }

  const items = page ? page.items.map((r) => rows.current.get(r.run_id) || r) : [];
  return h(
    "div",
    { class: "runs" },
    h(
      "form",
      { class: "filters", "aria-label": "Filter runs", onSubmit: (e) => e.preventDefault() },
      !fixed.workflow_id &&
        h(
          Field,
          { label: "Workflow" },
          h("select", { value: filters.workflow_id || "", onChange: (e) => set("workflow_id", e.currentTarget.value) }, h("option", { value: "" }, "All workflows"), ((workflows && workflows.items) || []).map((w) => h("option", { key: w.id, value: w.id }, w.name))),
        ),
      h(Field, { label: "Status" }, h("select", { value: filters.status || "", onChange: (e) => set("status", e.currentTarget.value) }, h("option", { value: "" }, "Any status"), STATUSES.map((s) => h("option", { key: s, value: s }, s)))),
      h("label", { class: "inline" }, h("input", { type: "checkbox", checked: Boolean(filters.failed), onChange: (e) => set("failed", e.currentTarget.checked ? "1" : "") }), " Failed only"),
      h(Field, { label: "Trigger" }, h("select", { value: filters.trigger || "", onChange: (e) => set("trigger", e.currentTarget.value) }, h("option", { value: "" }, "Any trigger"), TRIGGERS.map((s) => h("option", { key: s, value: s }, s)))),
      h(Field, { label: "Started after" }, h("input", { type: "datetime-local", value: filters.started_after || "", onChange: (e) => set("started_after", e.currentTarget.value) })),
      h(Field, { label: "Started before" }, h("input", { type: "datetime-local", value: filters.started_before || "", onChange: (e) => set("started_before", e.currentTarget.value) })),
    ),
    h("p", { class: "muted", "aria-live": "polite" }, streaming ? "Live: updates as runs change." : "Not live (no cross-run stream); reload for news.", fresh > 0 && [" ", h("button", { key: "f", type: "button", onClick: () => setCursors([null]) || setPage(null) || setFresh(0) }, `${fresh} new run${fresh > 1 ? "s" : ""}: show`)]),
    error && h(ErrorText, { error }),
    h(
      "table",
      { class: "list", "aria-label": "Runs" },
      h("thead", null, h("tr", null, ["Run", "Workflow", "Status", "Trigger", "Started", "Duration", "Nodes"].map((t) => h("th", { scope: "col", key: t }, t)))),
      h(
        "tbody",
        null,
        items.map((r) =>
          h(
            "tr",
            { key: r.run_id, "data-run-id": r.run_id, "data-status": r.status },
            h("td", { class: "mono" }, h("a", { href: api.runPage(r.run_id) }, r.run_id)),
            h("td", null, r.workflow_id ? h("a", { href: `/ui/workflows/${r.workflow_id}` }, names.get(r.workflow_id) || r.workflow_id.slice(0, 8)) : "—", r.version ? ` v${r.version}` : ""),
            h("td", null, h(Status, { status: r.status })),
            h("td", null, r.trigger || "—"),
            h("td", null, when(r.started_at)),
            h("td", null, duration(r.started_at, r.ended_at)),
            h("td", null, h(Counts, { counts: r.node_counts })),
          ),
        ),
      ),
    ),
    page && !items.length && h("p", null, "No runs match."),
    h(
      "nav",
      { class: "pager", "aria-label": "Pages of runs" },
      h("button", { type: "button", disabled: cursors.length < 2, onClick: () => setCursors(cursors.slice(0, -1)) }, "Newer runs"),
      h("span", null, `Page ${cursors.length}`),
      h("button", { type: "button", disabled: !page || !page.next_cursor, onClick: () => setCursors([...cursors, page.next_cursor]) }, "Older runs"),
    ),
  );
}

export function RunsPage() {
  return h("section", null, h("h1", null, "Runs"), h(RunsTable, { urlState: true }));
}

export { navigate };
