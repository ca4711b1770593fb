"""The benchmarks' HTTP peer: answers every request with 200 ``{"ok": true}`` in well under 1 ms.

    python -m bench.peer          # prints its port, serves until stdin closes

Each answer leaves in one write on a socket with TCP_NODELAY: headers and body in
separate small writes would wait for the client's delayed ACK (about 40 ms on
Linux) under Nagle's algorithm, and every engine would look 40 ms slower per call.
It runs in a process of its own, so that it takes no GIL from what is measured,
and uses the standard library only, so any engine's environment can start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

BODY = b'{"ok": true}'
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)
CLOSING = ANSWER.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n", 1)
MAX_HEAD = 64 * 1024


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip() or 0)
    return 0


def _closes(head: bytes) -> bool:
    return b"\r\nconnection: close" in head.lower()


async def _serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > MAX_HEAD:
                break
            length = _content_length(head)
            if length:
                await reader.readexactly(length)
            closing = _closes(head)
            writer.write(CLOSING if closing else ANSWER)
            if closing:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def serve(host: str = "127.0.0.1", port: int = 0) -> None:
    """Serve until stdin closes (the parent went away), printing the port first."""
    server = await asyncio.start_server(_serve, host, port, backlog=1024, limit=MAX_HEAD)
    print(server.sockets[0].getsockname()[1], flush=True)
    loop = asyncio.get_running_loop()
    async with server:
        await loop.run_in_executor(None, sys.stdin.read)


@contextlib.contextmanager
def peer_process(host: str = "127.0.0.1") -> Iterator[str]:
    """A peer in a child process for the duration of the block; yields its base URL."""
    root = Path(__file__).resolve().parents[1]
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.peer", host],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        yield f"http://{host}:{port}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _recv(sock: socket.socket) -> bytes:
    data = sock.recv(65536)
    if not data:
        raise ConnectionError("the peer closed the connection")
    return data


def round_trip_ms(url: str, count: int = 50) -> float:
    """Median milliseconds of a GET to ``url`` over one kept-alive connection."""
    host, _, port = url.removeprefix("http://").partition(":")
    times: list[float] = []
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(count):
            began = time.perf_counter()
            sock.sendall(b"GET /ok HTTP/1.1\r\nHost: peer\r\n\r\n")
            received = b""
            while b"\r\n\r\n" not in received:
                received += _recv(sock)
            head, _, body = received.partition(b"\r\n\r\n")
            while len(body) < _content_length(head):
                body += _recv(sock)
            times.append(time.perf_counter() - began)
    times.sort()
    return times[len(times) // 2] * 1000


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"))
