// Operations: circuit breakers, secrets, schedules and hooks.
import * as api from "../api.js";
import { h, ErrorText, Field, Action, useLoad, when, Status } from "../ui.js";
import { useState } from "../../vendor/preact-hooks.mjs";

function Table({ head, rows, label }) {
  return h(
    "table",
    { class: "list", "aria-label": label },
    h("thead", null, h("tr", null, head.map((t, i) => h("th", { scope: "col", key: i }, t)))),
    h("tbody", null, rows),
  );
}

export function BreakersPage() {
  const [data, error, reload] = useLoad(() => api.get("/circuit-breakers?limit=200"), []);
  const items = (data && (data.items || data)) || [];
  return h(
    "section",
    null,
    h("h1", null, "Circuit breakers"),
    error && h(ErrorText, { error }),
    h(Table, {
      label: "Circuit breakers",
      head: ["Service", "State", "Failures", "Opened", "Open until", "Config", ""],
      rows: items.map((b) =>
        h(
          "tr",
          { key: b.service },
          h("td", { class: "mono" }, b.service),
          h("td", null, h("span", { class: `badge breaker-${b.state}` }, String(b.state).replace("_", " "))),
          h("td", null, String(b.failures ?? 0)),
          h("td", null, when(b.opened_at)),
          h("td", null, when(b.open_until)),
          h("td", { class: "mono" }, b.config ? `threshold ${b.config.failure_threshold}, reset ${b.config.reset_timeout} s` : "—"),
          h("td", null, h(Action, { label: `Reset ${b.service}`, run: async () => { await api.post(`/circuit-breakers/${b.service}/reset`); reload(); } })),
        ),
      ),
    }),
    data && !items.length && h("p", null, "No circuit breaker has seen a call yet."),
  );
}

export function SecretsPage() {
  const [data, error, reload] = useLoad(() => api.get("/secrets?limit=200"), []);
  const [failure, setFailure] = useState(null);
  const items = (data && (data.items || data)) || [];
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    setFailure(null);
    try {
      await api.post("/secrets", { name: String(values.get("name")), value: String(values.get("value")) });
      form.reset();
      reload();
    } catch (err) {
      setFailure(err);
    }
  }
  return h(
    "section",
    null,
    h("h1", null, "Secrets"),
    h("p", { class: "muted" }, "Values are write-only: only names are ever shown."),
    error && h(ErrorText, { error }),
    h(Table, {
      label: "Secrets",
      head: ["Name", "Updated", ""],
      rows: items.map((s) => {
        const name = typeof s === "string" ? s : s.name;
        return h(
          "tr",
          { key: name },
          h("td", { class: "mono" }, name),
          h("td", null, when(s.updated_at || s.created_at)),
          h("td", null, h(Action, { label: `Delete secret ${name}`, kind: "danger", confirm: `Delete the secret ${name}?`, run: async () => { await api.del(`/secrets/${encodeURIComponent(name)}`); reload(); } })),
        );
      }),
    }),
    h(
      "form",
      { class: "card", onSubmit: submit, "aria-label": "Set a secret" },
      h("h2", null, "Set a secret"),
      h(Field, { label: "Secret name" }, h("input", { name: "name", required: true, pattern: "[A-Za-z_][A-Za-z0-9_]*" })),
      h(Field, { label: "Secret value" }, h("input", { name: "value", type: "password", required: true, autocomplete: "off" })),
      h("button", { type: "submit" }, "Save secret"),
      failure && h(ErrorText, { error: failure }),
    ),
  );
}

export function ScheduleList({ workflow }) {
  const [data, error, reload] = useLoad(() => api.get(`/workflows/${workflow.id}/schedules?limit=200`), [workflow.id]);
  const [failure, setFailure] = useState(null);
  const items = (data && (data.items || data)) || [];
  async function submit(event) {
    event.preventDefault();
    const form = event.currentTarget;
    const values = new FormData(form);
    const every = String(values.get("every")).trim();
    const body = every.split(/\s+/).length >= 5 ? { cron: every } : { interval: every };
    const timezone = String(values.get("timezone") || "").trim();
    if (timezone) body.timezone = timezone;
    try {
      body.input = JSON.parse(String(values.get("input") || "{}"));
      await api.post(`/workflows/${workflow.id}/schedules`, body);
      form.reset();
      setFailure(null);
      reload();
    } catch (err) {
      setFailure(err);
    }
  }
  return h(
    "div",
    { class: "card" },
    h("h2", null, "Schedules"),
    error && h(ErrorText, { error }),
    h(Table, {
      label: "Schedules",
      head: ["Schedule", "When", "Version", "Next", "State", ""],
      rows: items.map((s) =>
        h(
          "tr",
          { key: s.schedule_id },
          h("td", { class: "mono" }, s.schedule_id),
          h("td", null, s.cron || `every ${s.interval}`, ` (${s.timezone})`),
          h("td", null, `v${s.version}`, s.rollout ? ` · ${s.rollout.percent}% to v${s.rollout.candidate}` : s.pinned ? " (pinned)" : ""),
          h("td", null, s.paused ? "—" : when((s.next_runs || [])[0])),
          h("td", null, s.paused ? "paused" : "active"),
          h(
            "td",
            null,
            h(Action, { label: s.paused ? `Unpause ${s.schedule_id}` : `Pause ${s.schedule_id}`, run: async () => { await api.patch(`/schedules/${s.schedule_id}`, { paused: !s.paused }); reload(); } }),
            h(Action, { label: `Trigger ${s.schedule_id} now`, run: async () => { await api.post(`/schedules/${s.schedule_id}/trigger`); reload(); } }),
            h(Action, { label: `Delete ${s.schedule_id}`, kind: "danger", confirm: "Delete this schedule?", run: async () => { await api.del(`/schedules/${s.schedule_id}`); reload(); } }),
          ),
        ),
      ),
    }),
    h(
      "form",
      { onSubmit: submit, "aria-label": "Add a schedule" },
      h(Field, { label: "Cron or interval", hint: "e.g. */5 * * * * or 30s" }, h("input", { name: "every", required: true })),
      h(Field, { label: "Time zone" }, h("input", { name: "timezone", placeholder: "UTC" })),
      h(Field, { label: "Input (JSON)" }, h("textarea", { name: "input", rows: 3, class: "code" }, "{}")),
      h("button", { type: "submit" }, "Add schedule"),
      failure && h(ErrorText, { error: failure }),
    ),
  );
}

export function HookList({ workflow }) {
  const [data, error, reload] = useLoad(() => api.get(`/workflows/${workflow.id}/webhooks?limit=200`), [workflow.id]);
  const [created, setCreated] = useState(null);
  const items = (data && (data.items || data)) || [];
  return h(
    "div",
    { class: "card" },
    h("h2", null, "Inbound webhooks"),
    error && h(ErrorText, { error }),
    h(Table, {
      label: "Webhooks",
      head: ["URL", "Signed timestamps", "State", ""],
      rows: items.map((k) =>
        h(
          "tr",
          { key: k.hook_id },
          h("td", { class: "mono" }, k.url),
          h("td", null, k.require_timestamp ? "required" : "optional"),
          h("td", null, k.enabled ? "enabled" : "disabled"),
          h(
            "td",
            null,
            h(Action, { label: k.enabled ? "Disable hook" : "Enable hook", run: async () => { await api.patch(`/webhooks/${k.hook_id}`, { enabled: !k.enabled }); reload(); } }),
            h(Action, { label: "Delete hook", kind: "danger", confirm: "Delete this hook?", run: async () => { await api.del(`/webhooks/${k.hook_id}`); reload(); } }),
          ),
        ),
      ),
    }),
    h(Action, { label: "Add webhook", run: async () => { setCreated(await api.post(`/workflows/${workflow.id}/webhooks`, {})); reload(); } }),
    created && h("div", { class: "card", role: "status" }, h("p", null, "The hook's secret, shown this once:"), h("pre", { class: "mono" }, created.secret), h("p", null, `URL: ${created.url}`)),
  );
}

function PerWorkflow({ title, view }) {
  const [data, error] = useLoad(() => api.get("/workflows?limit=200"), []);
  const [chosen, setChosen] = useState("");
  const workflows = (data && data.items) || [];
  const workflow = workflows.find((w) => w.id === chosen) || workflows[0];
  return h(
    "section",
    null,
    h("h1", null, title),
    error && h(ErrorText, { error }),
    data && !workflows.length && h("p", null, "No workflows yet."),
    workflows.length > 0 && h(Field, { label: "Workflow" }, h("select", { value: workflow.id, onChange: (e) => setChosen(e.currentTarget.value) }, workflows.map((w) => h("option", { key: w.id, value: w.id }, w.name)))),
    workflow && h(view, { key: workflow.id, workflow }),
  );
}

export const SchedulesPage = () => h(PerWorkflow, { title: "Schedules", view: ScheduleList });
export const HooksPage = () => h(PerWorkflow, { title: "Hooks", view: HookList });
export { Status };
