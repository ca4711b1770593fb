// The editor's Test panel: run the draft in the editor as a test run
// (POST /workflows/test?wait=true) with an input, a mock or "run for real" per
// side-effect node, and show what every node did and which edges were taken.
// Nothing leaves the run for a mocked or refused node; the panel only reads
// what the API answers and renders it as text.
import * as api from "../api.js";
import { h, Field, Status, JsonView, pretty } from "../ui.js";
import { useState } from "../../vendor/preact-hooks.mjs";

// Node types that act outside the run: a test run refuses them unless mocked
// or run for real (interpreter/contract/testing.py SIDE_EFFECT_TYPES).
const SIDE_EFFECTS = new Set(["http", "webhook", "script", "sub_workflow"]);

const DEFAULT_MOCK = { output: { status: 200, headers: {}, body: {} } };

// Every side-effect node of the definition, by the path a mock key uses
// (loop[*].call inside a for_each body).
export function mockablePaths(definition) {
  const found = [];
  function walk(nodes, prefix) {
    if (!Array.isArray(nodes)) return;
    for (const node of nodes) {
      if (!node || typeof node.id !== "string") continue;
      const path = `${prefix}${node.id}`;
      if (SIDE_EFFECTS.has(node.type)) found.push({ path, type: node.type });
      const body = node.type === "for_each" && node.config && node.config.body;
      if (body) walk(body.nodes, `${path}[*].`);
    }
  }
  walk(definition && definition.nodes, "");
  return found;
}

function parseJson(text, path) {
  if (!text.trim()) return { value: undefined };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { problem: { path, code: "json", message: `not valid JSON: ${error.message}` } };
  }
}

function ProblemsAt({ problems, prefix, label }) {
  const mine = problems.filter((p) => (p.path || "") === prefix || (p.path || "").startsWith(`${prefix}/`));
  if (!mine.length) return null;
  return h(
    "ul",
    { class: "problems error", "aria-label": label },
    mine.map((p, i) => h("li", { key: i }, h("code", null, p.path || "/"), p.code ? ` [${p.code}]` : "", `: ${p.message}`)),
  );
}

function NodeMock({ path, type, choice, onChange, problems }) {
  const label = `Mock of ${path}`;
  return h(
    "div",
    { class: "card test-node", "data-node": path },
    h("div", { class: "titlebar" }, h("strong", null, path), h("span", { class: "muted" }, type)),
    h(
      Field,
      { label: `${path}: how it answers` },
      h(
        "select",
        { value: choice.mode, onChange: (e) => onChange({ ...choice, mode: e.currentTarget.value }) },
        h("option", { value: "refuse" }, "Refused (NotMocked)"),
        h("option", { value: "mock" }, "Mocked"),
        h("option", { value: "real" }, "Run for real"),
      ),
    ),
    choice.mode === "mock" &&
      h(
        Field,
        { label, hint: '{"output": …}, {"error": {"type": …, "message": …}} or {"sequence": [...]}' },
        h("textarea", { class: "code", rows: 5, spellcheck: false, value: choice.text, onInput: (e) => onChange({ ...choice, text: e.currentTarget.value }) }),
      ),
    h(ProblemsAt, { problems, prefix: `/body/mocks/${path}`, label: `Problems of ${path}` }),
  );
}

function Report({ run }) {
  const tested = run.tested || {};
  const nodes = new Map((run.nodes || []).map((n) => [n.id, n]));
  const paths = [...nodes.keys(), ...Object.keys(tested).filter((p) => !nodes.has(p))];
  return h(
    "div",
    { class: "test-report", "aria-label": "Test result" },
    h(
      "p",
      null,
      "Test run ",
      h("a", { href: api.runPage(run.run_id) }, run.run_id),
      ": ",
      h("span", { "data-test-status": run.status }, h(Status, { status: run.status })),
    ),
    run.error && h("p", { class: "error" }, `${run.error.type || "Error"}: ${run.error.message || ""}`),
    run.output !== undefined && run.output !== null && h(JsonView, { value: run.output, label: "test output" }),
    h("h3", null, "Nodes"),
    h(
      "table",
      { class: "list", "aria-label": "Tested nodes" },
      h("thead", null, h("tr", null, ["Node", "Status", "Test", "Rendered config", "Output or error"].map((t) => h("th", { key: t }, t)))),
      h(
        "tbody",
        null,
        paths.map((path) => {
          const node = nodes.get(path) || {};
          const test = tested[path];
          // Only a node with side effects "ran for real"; a transform or a for_each just ran.
          const ran = SIDE_EFFECTS.has(node.type) ? "ran for real" : "ran";
          const how = test ? (test.mocked ? "mocked" : test.refused ? "refused" : ran) : "—";
          const result = node.error ? `${node.error.type}: ${node.error.message}` : node.output !== undefined && node.output !== null ? pretty(node.output) : "";
          return h(
            "tr",
            { key: path, "data-node": path },
            h("td", null, h("code", null, path)),
            h("td", null, node.status ? h(Status, { status: node.status }) : "—"),
            h("td", { "data-test": how }, how),
            h("td", null, test && test.config !== null && test.config !== undefined ? h("pre", { class: "mono" }, pretty(test.config)) : "—"),
            h("td", { class: node.error ? "error" : "" }, result ? h("pre", { class: "mono" }, result) : "—"),
          );
        }),
      ),
    ),
    h("h3", null, "Edges"),
    (run.edges || []).length === 0
      ? h("p", { class: "muted" }, "No edges.")
      : h(
          "ul",
          { "aria-label": "Edges taken" },
          run.edges.map((e, i) =>
            h(
              "li",
              { key: i, "data-edge": `${e.source}->${e.target}`, "data-taken": String(e.taken) },
              h("code", null, `${e.source} → ${e.target}`),
              `: ${e.taken === true ? "taken" : e.taken === false ? "not taken" : "not settled"} (${e.why})`,
            ),
          ),
        ),
    run.edges_left_off > 0 && h("p", { class: "muted" }, `${run.edges_left_off} more for_each body edges left off (FLOWFORGE_TEST_REPORT_MAX_EDGES).`),
  );
}

// definition: the editor's parsed JSON (null while it does not parse);
// workflowId: the stored workflow being edited, or null on the new-workflow page.
export function TestPanel({ definition, workflowId }) {
  const [inputText, setInputText] = useState("{}");
  const [choices, setChoices] = useState({});
  const [run, setRun] = useState(null);
  const [problems, setProblems] = useState([]);
  const [failure, setFailure] = useState(null);
  const [busy, setBusy] = useState(false);
  const mockable = mockablePaths(definition);

  const choiceOf = (path) => choices[path] || { mode: "refuse", text: pretty(DEFAULT_MOCK) };

  async function runTest() {
    setRun(null);
    setFailure(null);
    const found = [];
    if (!definition) found.push({ path: "/body/definition", code: "json", message: "the definition is not valid JSON" });
    const input = parseJson(inputText, "/body/input");
    if (input.problem) found.push(input.problem);
    const mocks = {};
    const runForReal = [];
    for (const { path } of mockable) {
      const choice = choiceOf(path);
      if (choice.mode === "real") runForReal.push(path);
      if (choice.mode !== "mock") continue;
      const mock = parseJson(choice.text, `/body/mocks/${path}`);
      if (mock.problem) found.push(mock.problem);
      else mocks[path] = mock.value === undefined ? {} : mock.value;
    }
    setProblems(found);
    if (found.length) return;
    const body = { definition, input: input.value === undefined ? {} : input.value, mocks, run_for_real: runForReal };
    if (workflowId) body.workflow_id = workflowId;
    setBusy(true);
    try {
      setRun(await api.post("/workflows/test?wait=true", body));
    } catch (err) {
      setProblems(err.errors || []);
      setFailure(err);
    } finally {
      setBusy(false);
    }
  }

  const elsewhere = problems.filter((p) => !(p.path || "").startsWith("/body/input") && !(p.path || "").startsWith("/body/mocks/"));
  return h(
    "section",
    { class: "card test-panel", "aria-label": "Test" },
    h("h2", null, "Test"),
    h(
      "p",
      { class: "muted" },
      workflowId ? "Runs the definition above as a draft of this workflow" : "Runs the definition above (not saved)",
      ": mocked nodes answer from their mock and send nothing; other http, webhook, script and sub_workflow nodes are refused unless run for real.",
    ),
    h(Field, { label: "Test input (JSON)" }, h("textarea", { class: "code", rows: 4, spellcheck: false, value: inputText, onInput: (e) => setInputText(e.currentTarget.value) })),
    h(ProblemsAt, { problems, prefix: "/body/input", label: "Problems of the input" }),
    mockable.length === 0
      ? h("p", { class: "muted" }, "No node to mock: nothing in this definition acts outside the run.")
      : mockable.map(({ path, type }) => h(NodeMock, { key: path, path, type, problems, choice: choiceOf(path), onChange: (next) => setChoices((c) => ({ ...c, [path]: next })) })),
    h("div", { class: "actions" }, h("button", { type: "button", onClick: runTest, disabled: busy }, busy ? "Testing…" : "Run test")),
    failure && h("p", { class: "error", role: "alert" }, failure.message),
    elsewhere.length > 0 &&
      h(
        "ul",
        { class: "problems error", "aria-label": "Problems of the test" },
        elsewhere.map((p, i) => h("li", { key: i }, h("code", null, p.path || "/"), p.code ? ` [${p.code}]` : "", `: ${p.message}`)),
      ),
    run && h(Report, { run }),
  );
}
