// Small view helpers shared by the pages. Every value from the API is rendered
// as a text node (preact escapes it); nothing here builds HTML from data.
import { h, Fragment } from "../vendor/preact.mjs";
import { useEffect, useState, useRef, useCallback } from "../vendor/preact-hooks.mjs";

export { h, Fragment };

export const STATUS_TEXT = {
  pending: "pending",
  running: "running",
  retrying: "retrying",
  waiting: "waiting",
  succeeded: "succeeded",
  failed: "failed",
  skipped: "skipped",
  cancelled: "cancelled",
  paused: "paused",
  suspended: "suspended",
  terminated: "terminated",
  timed_out: "timed out",
};

export function Status({ status }) {
  const value = status || "unknown";
  return h("span", { class: `badge status-${value}`, "data-status": value }, STATUS_TEXT[value] || value);
}

export function when(value) {
  if (!value) return "—";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toLocaleString();
}

export function duration(start, end) {
  if (!start) return "—";
  const ms = (end ? new Date(end) : new Date()) - new Date(start);
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60000)} min ${Math.round((ms % 60000) / 1000)} s`;
}

export function ms(value) {
  if (value === null || value === undefined) return "—";
  return value < 1000 ? `${Math.round(value)} ms` : `${(value / 1000).toFixed(2)} s`;
}

export const CAP = 4000;

export function pretty(value) {
  if (value === undefined) return "";
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

// A JSON value as text, capped at CAP characters with a button for the whole.
function isPreview(value) {
  return Boolean(value) && typeof value === "object" && value.truncated === true && typeof value.preview === "string";
}

export function JsonView({ value, label, fetchWhole }) {
  const [whole, setWhole] = useState(null);
  const [error, setError] = useState(null);
  const text = whole ?? pretty(value);
  // The run view cuts a large output to {truncated, bytes, preview}; with a way
  // to fetch the whole value that preview always offers it, however short.
  const preview = Boolean(fetchWhole) && isPreview(value);
  const capped = whole === null && (preview || text.length > CAP);
  const shown = capped && !preview ? `${text.slice(0, CAP)}\n…` : text;
  async function showWhole() {
    if (fetchWhole) {
      try {
        setWhole(pretty(await fetchWhole()));
      } catch (err) {
        setError(err.message);
        setWhole(text);
      }
    } else setWhole(text);
  }
  return h(
    "div",
    { class: "json" },
    h("pre", { "aria-label": label, tabindex: 0 }, shown || "null"),
    capped &&
      h(
        "p",
        null,
        preview ? `Cut to a preview of the ${value.bytes}-byte value. ` : `Showing ${CAP} of ${text.length} characters. `,
        h("button", { type: "button", onClick: showWhole }, `Show the whole ${label || "value"}`),
      ),
    error && h("p", { class: "error", role: "alert" }, error),
    h(
      "button",
      { type: "button", class: "link", onClick: () => navigator.clipboard?.writeText(whole ?? text) },
      `Copy ${label || "value"}`,
    ),
  );
}

export function ErrorText({ error }) {
  if (!error) return null;
  const message = typeof error === "string" ? error : error.message || pretty(error);
  const items = error.errors || [];
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", null, message),
    items.length > 0 &&
      h(
        "ul",
        null,
        items.map((item, i) => h("li", { key: i }, `${item.path || ""} ${item.code ? `(${item.code})` : ""}: ${item.message}`)),
      ),
  );
}

// Load with fn() and re-run when deps change: [data, error, reload].
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const current = useRef(0);
  const reload = useCallback(() => {
    const token = ++current.current;
    setState((s) => ({ ...s, loading: true }));
    Promise.resolve()
      .then(fn)
      .then(
        (data) => token === current.current && setState({ data, error: null, loading: false }),
        (error) => token === current.current && setState({ data: null, error, loading: false }),
      );
  }, deps);
  useEffect(reload, [reload]);
  return [state.data, state.error, reload, state.loading];
}

export function Field({ label, children, hint }) {
  return h("label", { class: "field" }, h("span", null, label), children, hint && h("small", null, hint));
}

// A button that runs an async action, disables itself meanwhile and shows a failure.
export function Action({ label, run, kind, confirm: ask, disabled }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  async function click() {
    if (ask && !window.confirm(ask)) return;
    setBusy(true);
    setError(null);
    try {
      await run();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return h(
    Fragment,
    null,
    h("button", { type: "button", class: kind || "", onClick: click, disabled: busy || disabled }, label),
    error && h(ErrorText, { error }),
  );
}

export function Tabs({ tabs, active, onChange, label }) {
  function key(event, index) {
    if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
    const next = (index + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length;
    onChange(tabs[next][0]);
    event.currentTarget.parentElement.children[next]?.focus();
  }
  return h(
    "div",
    { role: "tablist", "aria-label": label, class: "tabs" },
    tabs.map(([id, name], index) =>
      h(
        "button",
        {
          key: id,
          type: "button",
          role: "tab",
          "aria-selected": id === active ? "true" : "false",
          tabindex: id === active ? 0 : -1,
          onClick: () => onChange(id),
          onKeyDown: (event) => key(event, index),
        },
        name,
      ),
    ),
  );
}

export function Link({ href, children, ...rest }) {
  return h("a", { href, ...rest }, children);
}
