// The dashboard: a router over history.pushState, the page frame, sign in.
import { render } from "../vendor/preact.mjs";
import { useEffect, useState } from "../vendor/preact-hooks.mjs";
import * as api from "./api.js";
import { navigate } from "./router.js";
import { h, ErrorText, Field } from "./ui.js";
import { WorkflowsPage, WorkflowPage } from "./pages/workflows.js";
import { EditorPage } from "./pages/editor.js";
import { RunsPage } from "./pages/runs.js";
import { RunPage } from "./pages/run.js";
import { BreakersPage, SecretsPage, SchedulesPage, HooksPage } from "./pages/ops.js";

const BASE = "/ui";


const ROUTES = [
  [/^\/?$/, () => h(WorkflowsPage)],
  [/^\/workflows\/?$/, () => h(WorkflowsPage)],
  [/^\/workflows\/new\/?$/, () => h(EditorPage, {})],
  [/^\/workflows\/([^/]+)\/edit\/?$/, (m) => h(EditorPage, { workflowId: m[1] })],
  [/^\/workflows\/([^/]+)\/?$/, (m) => h(WorkflowPage, { workflowId: m[1] })],
  [/^\/runs\/?$/, () => h(RunsPage)],
  [/^\/runs\/(.+?)\/?$/, (m) => h(RunPage, { runId: api.runFromSegment(m[1]) })],
  [/^\/circuit-breakers\/?$/, () => h(BreakersPage)],
  [/^\/secrets\/?$/, () => h(SecretsPage)],
  [/^\/schedules\/?$/, () => h(SchedulesPage)],
  [/^\/hooks\/?$/, () => h(HooksPage)],
];

function route(pathname) {
  const rest = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname;
  for (const [pattern, view] of ROUTES) {
    const match = rest.match(pattern);
    if (match) return view(match.map((part, i) => (i ? decodeURIComponent(part) : part)));
  }
  return h("section", null, h("h1", null, "Not found"), h("p", null, `No page at ${pathname}.`));
}

function usePath() {
  const [path, setPath] = useState(location.pathname + location.search);
  useEffect(() => {
    const update = () => setPath(location.pathname + location.search);
    window.addEventListener("popstate", update);
    window.addEventListener("flowforge:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("flowforge:navigate", update);
    };
  }, []);
  return path;
}

function SignIn() {
  const [mode, setMode] = useState("password");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  async function submit(event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setError(null);
    try {
      if (mode === "password") await api.signIn(String(form.get("username")), String(form.get("password")));
      else await api.signInWithKey(String(form.get("key")).trim());
    } catch (err) {
      setError(err.status === 401 ? new Error("Wrong username, password or key.") : err);
    } finally {
      setBusy(false);
    }
  }
  return h(
    "main",
    { class: "signin" },
    h("h1", null, "FlowForge"),
    h(
      "form",
      { onSubmit: submit, "aria-label": "Sign in" },
      h("h2", null, "Sign in"),
      mode === "password"
        ? [
            h(Field, { label: "Username", key: "u" }, h("input", { name: "username", autocomplete: "username", required: true })),
            h(Field, { label: "Password", key: "p" }, h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
          ]
        : h(Field, { label: "API key" }, h("input", { name: "key", type: "password", autocomplete: "off", required: true })),
      h("button", { type: "submit", disabled: busy }, "Sign in"),
      h(
        "button",
        { type: "button", class: "link", onClick: () => setMode(mode === "password" ? "key" : "password") },
        mode === "password" ? "Use an API key instead" : "Use a username and password instead",
      ),
      error && h(ErrorText, { error }),
    ),
  );
}

const NAV = [
  ["/ui/workflows", "Workflows"],
  ["/ui/runs", "Runs"],
  ["/ui/schedules", "Schedules"],
  ["/ui/hooks", "Hooks"],
  ["/ui/secrets", "Secrets"],
  ["/ui/circuit-breakers", "Circuit breakers"],
];

function Frame({ path, children }) {
  const [me, setMe] = useState(null);
  useEffect(() => {
    api.get("/auth/me").then(setMe, () => {});
  }, []);
  const here = path.split("?")[0];
  return h(
    "div",
    { class: "frame" },
    h("a", { href: "#main", class: "skip" }, "Skip to content"),
    h(
      "header",
      null,
      h("a", { href: "/ui", class: "brand" }, "FlowForge"),
      h(
        "nav",
        { "aria-label": "Main" },
        NAV.map(([href, name]) =>
          h("a", { key: href, href, "aria-current": here.startsWith(href) || (href === "/ui/workflows" && here === "/ui") ? "page" : undefined }, name),
        ),
      ),
      h(
        "div",
        { class: "who" },
        me && h("span", null, `${me.username} (${me.role})`),
        h("button", { type: "button", onClick: () => api.signOut() }, "Sign out"),
      ),
    ),
    h("main", { id: "main", tabindex: -1 }, children),
  );
}

function App() {
  const path = usePath();
  const [signedIn, setSignedIn] = useState(api.signedIn());
  useEffect(() => api.onAuthChange(setSignedIn), []);
  useEffect(() => {
    document.title = `FlowForge · ${path.split("?")[0].replace(/^\/ui\/?/, "") || "workflows"}`;
  }, [path]);
  if (!signedIn) return h(SignIn);
  return h(Frame, { path }, h("div", { key: path.split("?")[0] }, route(path.split("?")[0])));
}

// Same-origin links under /ui are followed by the router, not a page load.
document.addEventListener("click", (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = event.target.closest && event.target.closest("a[href]");
  if (!link || link.target || link.origin !== location.origin || !link.pathname.startsWith(BASE)) return;
  if (link.getAttribute("href").startsWith("#")) return;
  event.preventDefault();
  navigate(link.pathname + link.search);
  document.getElementById("main")?.focus();
});

const root = document.getElementById("root");
root.textContent = "";
render(h(App), root);
