// The definition editor: JSON validated as you type through the API, every
// problem listed at its path and marked on the node it concerns; save as a new
// workflow or a new version; test the draft with mocks (the Test panel); or
// instantiate a template from its parameters.
import * as api from "../api.js";
import { navigate } from "../router.js";
import { Graph } from "../graph.js";
import { TestPanel } from "./test_panel.js";
import { h, ErrorText, Field, Action, useLoad, pretty } from "../ui.js";
import { useEffect, useMemo, useRef, useState } from "../../vendor/preact-hooks.mjs";

const STARTER = {
  dsl_version: 1,
  name: "my-workflow",
  description: "Say hello",
  input_schema: { type: "object", properties: { name: { type: "string" } } },
  nodes: [
    { id: "greet", type: "transform", config: { value: { hi: "Hi {{ input.name }}" } } },
    { id: "say", type: "log", config: { message: "{{ nodes.greet.output.hi }}" } },
  ],
  edges: [{ from: "greet", to: "say" }],
  output: "{{ nodes.greet.output }}",
};

function nodeOfPath(definition, path) {
  const match = /^\/nodes\/(\d+)(\/|$)/.exec(path || "");
  if (!match || !definition || !Array.isArray(definition.nodes)) return null;
  const node = definition.nodes[Number(match[1])];
  return node && typeof node.id === "string" ? node.id : null;
}

function TemplateForm() {
  const [templates, error] = useLoad(() => api.get("/templates?limit=200"), []);
  const [chosen, setChosen] = useState("");
  const [failure, setFailure] = useState(null);
  const template = templates && templates.items.find((t) => t.id === chosen);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const parameters = {};
    for (const p of template.parameters || []) {
      const raw = form.get(`param-${p.name}`);
      if (raw === null || raw === "") continue;
      try {
        parameters[p.name] = JSON.parse(String(raw));
      } catch {
        parameters[p.name] = String(raw);
      }
    }
    try {
      const created = await api.post(`/templates/${template.id}/instantiate`, { name: String(form.get("name")), parameters });
      navigate(`/ui/workflows/${created.id}`);
    } catch (err) {
      setFailure(err);
    }
  }
  if (error) return h(ErrorText, { error });
  return h(
    "form",
    { class: "card", onSubmit: submit, "aria-label": "From a template" },
    h("h2", null, "Or start from a template"),
    h(Field, { label: "Template" }, h("select", { value: chosen, onChange: (e) => setChosen(e.currentTarget.value) }, h("option", { value: "" }, "Choose a template"), ((templates && templates.items) || []).map((t) => h("option", { key: t.id, value: t.id }, t.name)))),
    template && [
      template.description && h("p", { key: "d" }, template.description),
      h(Field, { key: "n", label: "Workflow name" }, h("input", { key: template.id, name: "name", required: true, defaultValue: template.name })),
      ...(template.parameters || []).map((p) =>
        h(Field, { key: p.name, label: `${p.name}${p.required ? " (required)" : ""}`, hint: p.description }, h("input", { name: `param-${p.name}`, required: p.required, placeholder: p.default !== null && p.default !== undefined ? JSON.stringify(p.default) : "" })),
      ),
      h("button", { key: "b", type: "submit" }, "Create from template"),
    ],
    failure && h(ErrorText, { error: failure }),
  );
}

export function EditorPage({ workflowId }) {
  const [text, setText] = useState(workflowId ? "" : pretty(STARTER));
  const [workflow, setWorkflow] = useState(null);
  const [report, setReport] = useState({ state: "idle", errors: [] });
  const [activate, setActivate] = useState(true);
  const [saveError, setSaveError] = useState(null);
  const timer = useRef(null);
  const seq = useRef(0);

  useEffect(() => {
    if (!workflowId) return;
    api.get(`/workflows/${workflowId}`).then(
      (w) => {
        setWorkflow(w);
        setText(pretty(w.definition));
      },
      setSaveError,
    );
  }, [workflowId]);

  const definition = useMemo(() => {
    try {
      return { value: JSON.parse(text) };
    } catch (error) {
      return { error };
    }
  }, [text]);

  useEffect(() => {
    clearTimeout(timer.current);
    if (!text) return undefined;
    if (definition.error) {
      setReport({ state: "syntax", errors: [{ path: "", code: "json", message: definition.error.message }] });
      return undefined;
    }
    const mine = ++seq.current;
    setReport((r) => ({ ...r, state: "checking" }));
    timer.current = setTimeout(async () => {
      try {
        const answer = await api.post("/workflows/validate", { definition: definition.value });
        if (mine === seq.current) setReport({ state: answer.valid ? "valid" : "invalid", errors: answer.errors || [] });
      } catch (err) {
        if (mine === seq.current) setReport({ state: "invalid", errors: err.errors.length ? err.errors : [{ path: "", code: String(err.status), message: err.message }] });
      }
    }, 300);
    return () => clearTimeout(timer.current);
  }, [text]);

  const marked = useMemo(() => new Set(report.errors.map((e) => nodeOfPath(definition.value, e.path)).filter(Boolean)), [report, definition]);

  async function save() {
    setSaveError(null);
    if (definition.error) throw new Error("Fix the JSON first.");
    if (workflowId) {
      await api.put(`/workflows/${workflowId}${activate ? "" : "?activate=false"}`, { definition: definition.value });
      navigate(`/ui/workflows/${workflowId}`);
    } else {
      const created = await api.post("/workflows", { definition: definition.value });
      navigate(`/ui/workflows/${created.id}`);
    }
  }

  const status = { idle: "", checking: "Checking…", valid: "Valid definition.", invalid: `${report.errors.length} problem${report.errors.length === 1 ? "" : "s"}.`, syntax: "Not valid JSON." }[report.state];
  return h(
    "section",
    { class: "editor" },
    h("h1", null, workflow ? `Edit ${workflow.name}` : "New workflow"),
    h(
      "div",
      { class: "split" },
      h(
        "div",
        null,
        h(Field, { label: "Definition (JSON)" }, h("textarea", { class: "code", rows: 28, value: text, spellcheck: false, onInput: (e) => setText(e.currentTarget.value), "aria-describedby": "problems" })),
        h(
          "div",
          { id: "problems", "aria-live": "polite", class: report.state === "valid" ? "ok" : "" },
          h("p", { role: "status", "data-validation": report.state }, status),
          report.errors.length > 0 &&
            h(
              "ul",
              { class: "problems", "aria-label": "Problems" },
              report.errors.map((e, i) => {
                const node = nodeOfPath(definition.value, e.path);
                return h("li", { key: i, class: "error" }, h("code", null, e.path || "/"), node ? ` (node ${node})` : "", e.code ? ` [${e.code}]` : "", `: ${e.message}`);
              }),
            ),
        ),
        workflowId && h("label", { class: "inline" }, h("input", { type: "checkbox", checked: activate, onChange: (e) => setActivate(e.currentTarget.checked) }), " Make the new version active"),
        h(Action, { label: workflowId ? "Save as new version" : "Create workflow", run: save, disabled: report.state === "syntax" }),
        saveError && h(ErrorText, { error: saveError }),
      ),
      h("div", null, h("h2", null, "Graph"), definition.value && Array.isArray(definition.value.nodes) ? h(Graph, { nodes: definition.value.nodes, edges: definition.value.edges, marked, label: "Editor graph" }) : h("p", null, "No nodes to draw.")),
    ),
    h(TestPanel, { definition: definition.value || null, workflowId: workflowId || null }),
    !workflowId && h(TemplateForm),
  );
}
