"""A real HTTP server on 127.0.0.1 whose answers a test scripts.

Tests talk to it over real sockets (no transport mocks). It records every
request with its arrival time and the number of requests in flight, so tests
can measure retry spacing and concurrency from the server's side.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    raw: bytes | None = None
    chunks: list[bytes] | None = None
    """Sent with chunked transfer encoding (no Content-Length), one chunk at a time."""


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    in_flight: int

    def json(self) -> Any:
        return json.loads(self.body or b"null")


Handler = Callable[[Seen], Reply]


class Peer:
    """Scripted HTTP server. ``route(path, handler)`` sets answers; default is 200 ``{}``."""

    def __init__(
        self, host: str = "127.0.0.1", *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.requests: list[Seen] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._lock = threading.Lock()
        self._routes: dict[str, Handler] = {}
        peer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffered, so that headers and body leave in one write (flushed after each
            # request): in two small writes the body would wait, under Nagle's
            # algorithm, for the client's delayed ACK, about 40 ms a request.
            wbufsize = -1

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with peer._lock:
                    peer._in_flight += 1
                    peer.max_in_flight = max(peer.max_in_flight, peer._in_flight)
                    seen = Seen(
                        self.command,
                        self.path,
                        {k.lower(): v for k, v in self.headers.items()},
                        body,
                        time.monotonic(),
                        peer._in_flight,
                    )
                    peer.requests.append(seen)
                try:
                    reply = peer._handler_for(self.path)(seen)
                    if reply.delay:
                        time.sleep(reply.delay)
                    payload = (
                        reply.raw
                        if reply.raw is not None
                        else json.dumps(reply.body if reply.body is not None else {}).encode()
                    )
                    self.send_response(reply.status)
                    headers = {"Content-Type": "application/json", **reply.headers}
                    for key, value in headers.items():
                        self.send_header(key, value)
                    if reply.chunks is not None:
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for chunk in reply.chunks:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                            self.wfile.flush()
                        self.wfile.write(b"0\r\n\r\n")
                        return
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with peer._lock:
                        peer._in_flight -= 1

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

        self._server = ThreadingHTTPServer((host, 0), _Handler)
        self._server.daemon_threads = True
        if ssl_context is not None:
            self._server.socket = ssl_context.wrap_socket(self._server.socket, server_side=True)
        self.scheme = "https" if ssl_context is not None else "http"
        self.host = host
        self.port = self._server.server_address[1]
        # A short poll interval keeps shutdown (every test's teardown) fast.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def route(self, path: str, handler: Handler | Reply) -> None:
        """Answer requests whose path (without query) equals ``path``."""
        self._routes[path] = handler if callable(handler) else (lambda _seen: handler)

    def script(self, path: str, replies: list[Reply]) -> None:
        """Answer successive requests to ``path`` with ``replies``; the last one repeats."""
        remaining = list(replies)

        def handler(_seen: Seen) -> Reply:
            with self._lock:
                return remaining.pop(0) if len(remaining) > 1 else remaining[0]

        self.route(path, handler)

    def hits(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path.split("?")[0] == path]

    def _handler_for(self, path: str) -> Handler:
        return self._routes.get(path.split("?")[0], lambda _seen: Reply())

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def running_peer(host: str = "127.0.0.1") -> Iterator[Peer]:
    """A peer on ``host`` for as long as the generator runs (the body of a fixture)."""
    peer = Peer(host)
    try:
        yield peer
    finally:
        peer.close()
