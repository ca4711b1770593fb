// The API client: the bearer token (memory + sessionStorage, never a URL), JSON
// requests, and Server-Sent Events read through fetch() so the token travels in
// the Authorization header (EventSource cannot send one).

const KEY = "flowforge.token";
let token = sessionStorage.getItem(KEY);
const listeners = new Set();

export const API = "/api/v1";

// A child run's id holds a "/" (run-…/child); in a URL path segment the API and
// the dashboard read "~" (which no run id contains) as that "/".
export const runSegment = (runId) => encodeURIComponent(String(runId).replaceAll("/", "~"));
export const runFromSegment = (segment) => segment.replaceAll("~", "/");
export const runPage = (runId) => `/ui/runs/${runSegment(runId)}`;

export function signedIn() {
  return Boolean(token);
}

export function onAuthChange(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function setToken(value) {
  token = value;
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener(Boolean(value));
}

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body && typeof body.detail === "string" ? body.detail : `HTTP ${status}`;
    super(detail);
    this.status = status;
    this.body = body;
    this.errors = (body && Array.isArray(body.errors) && body.errors) || [];
  }
}

function headers(extra) {
  const h = { Accept: "application/json", ...extra };
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

export async function request(method, path, body, options = {}) {
  const init = { method, headers: headers(options.headers), signal: options.signal };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const url = path.startsWith("/") && !path.startsWith(API) ? API + path : path;
  const response = await (takeEarly(method, url) || fetch(url, init));
  if (response.status === 401 && token && !options.noSignOut) setToken(null);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { detail: text.slice(0, 500) };
    }
  }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// A read early.js started before this module loaded, for this URL and token (once).
function takeEarly(method, url) {
  const early = window.flowforgeEarly;
  if (method !== "GET" || !early || early.token !== token || !early.answers.has(url)) return null;
  const answer = early.answers.get(url);
  early.answers.delete(url);
  return answer;
}

export const get = (path, options) => request("GET", path, undefined, options);
export const post = (path, body, options) => request("POST", path, body ?? {}, options);
export const put = (path, body, options) => request("PUT", path, body, options);
export const patch = (path, body, options) => request("PATCH", path, body, options);
export const del = (path, options) => request("DELETE", path, undefined, options);

export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "" && value !== false) search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export async function signIn(username, password) {
  const form = new URLSearchParams({ username, password });
  const response = await fetch(`${API}/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
    body: form,
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  setToken(data.access_token);
}

export async function signInWithKey(key) {
  const previous = token;
  token = key;
  try {
    await get("/auth/me", { noSignOut: true });
  } catch (error) {
    token = previous;
    throw error;
  }
  setToken(key);
}

export async function signOut() {
  if (token && !token.startsWith("ffk_")) {
    try {
      await post("/auth/logout", {}, { noSignOut: true });
    } catch {
      // The token is dropped either way.
    }
  }
  setToken(null);
}

function parseBlock(block) {
  const event = { event: "message", data: "", id: null };
  const data = [];
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const at = line.indexOf(":");
    const field = at < 0 ? line : line.slice(0, at);
    const value = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
    if (field === "event") event.event = value;
    else if (field === "data") data.push(value);
    else if (field === "id") event.id = value;
  }
  event.data = data.join("\n");
  return data.length ? event : null;
}

// Follow an SSE endpoint: onEvent({event, data, id}) for each event; reconnects
// with Last-Event-ID when the server ends the stream, until done() says stop or
// the returned function is called. onState("open"|"closed"|"error") tells the UI.
export function follow(path, onEvent, { done = () => false, onState = () => {} } = {}) {
  const controller = new AbortController();
  let lastId = null;
  let stopped = false;
  let failures = 0;

  async function once() {
    const h = headers({ Accept: "text/event-stream" });
    if (lastId) h["Last-Event-ID"] = lastId;
    const response = await fetch(API + path, { headers: h, signal: controller.signal, cache: "no-store" });
    if (!response.ok || !response.body) throw new ApiError(response.status, null);
    onState("open");
    failures = 0;
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) break;
      buffer += value.replace(/\r\n?/g, "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const parsed = parseBlock(buffer.slice(0, cut));
        buffer = buffer.slice(cut + 2);
        if (!parsed) continue;
        if (parsed.id) lastId = parsed.id;
        let data = parsed.data;
        try {
          data = JSON.parse(parsed.data);
        } catch {
          // Not JSON: handed on as text.
        }
        onEvent({ event: parsed.event, data, id: parsed.id });
      }
    }
  }

  (async () => {
    while (!stopped) {
      try {
        await once();
      } catch (error) {
        if (stopped || error.name === "AbortError") break;
        failures += 1;
        onState("error", error);
        if (error.status === 404 || error.status === 401 || error.status === 403) break;
      }
      if (stopped || done()) break;
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** failures, 10000)));
    }
    onState("closed");
  })();

  return () => {
    stopped = true;
    controller.abort();
  };
}
