"""``WS /api/v1/ws`` from the dashboard's own page: the strict CSP allows it, the token stays
out of the URL, and run events arrive as they happen."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from tests.support.api import waiting_definition
from tests.support.browser import create, sign_in, start, unique

LIVE = 30_000
"""How long the page may wait for an event (ms): runs go through Temporal."""

OPEN_SOCKET = """
async (how) => {
  // Signed in as the dashboard is: the token it keeps in sessionStorage.
  const token = sessionStorage.getItem("flowforge.token");
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/v1/ws`;
  const protocols = how === "subprotocol" ? ["flowforge.v1", `bearer.${token}`] : ["flowforge.v1"];
  const socket = new WebSocket(url, protocols);
  const seen = (window.flowforgeSocket = { messages: [], closed: null });
  socket.onmessage = (event) => seen.messages.push(JSON.parse(event.data));
  socket.onclose = (event) => (seen.closed = event.code);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("the WebSocket did not open"));
  });
  if (how === "first message") socket.send(JSON.stringify({ token }));
  return { url: socket.url, protocol: socket.protocol, token };
}
"""

RUN_ENDED = """
(runId) => window.flowforgeSocket.messages.some(
  (m) => m.type === "run" && m.data.run_id === runId && m.data.status === "succeeded"
)
"""


@pytest.mark.parametrize("how", ["first message", "subprotocol"])
async def test_the_page_receives_run_events_over_the_websocket(
    page: Any, api: httpx.AsyncClient, worker: Worker, how: str
) -> None:
    urls: list[str] = []
    page.on("websocket", lambda socket: urls.append(socket.url))
    await sign_in(page, "/ui/runs")
    opened = await page.evaluate(OPEN_SOCKET, how)
    assert opened["protocol"] == "flowforge.v1"
    assert opened["token"] not in opened["url"]
    await page.wait_for_function(
        "() => window.flowforgeSocket.messages.some((m) => m.type === 'ready')", timeout=LIVE
    )

    # Long enough that the live poller sees the run running, not only ended.
    workflow = await create(api, {**waiting_definition("4s"), "name": unique("socket")})
    run_id = await start(api, workflow["id"])
    await page.wait_for_function(RUN_ENDED, arg=run_id, timeout=LIVE)
    messages = await page.evaluate("window.flowforgeSocket.messages")
    events = [m for m in messages if m["type"] in ("run", "node") and m["data"]["run_id"] == run_id]
    # Node events come while the shared poller sees the run running; with many
    # runs to watch it may first see this one ended, and then sends its end only.
    assert [m["id"] for m in events] == sorted(m["id"] for m in events)
    assert await page.evaluate("window.flowforgeSocket.closed") is None
    assert urls
    assert not [u for u in urls if opened["token"] in u]
