"""Restate: the workloads as handlers of a Restate service, journaled by a Restate server.

Each http call is a ``ctx.run`` (its result journaled by the server before the
handler goes on); the fan-out starts every ``ctx.run`` at once and gathers
them. This process serves the service over HTTP/2 (hypercorn), registers
itself with the server's admin API, and calls the handlers through the
server's ingress, which answers when the invocation ends.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import restate
from hypercorn.asyncio import serve
from hypercorn.config import Config

from bench.peers import harness

bench = restate.Service("Bench")
_http: httpx.AsyncClient | None = None


async def get(url: str) -> int:
    assert _http is not None
    response = await _http.get(url)
    response.raise_for_status()
    return response.status_code


@bench.handler()
async def sequential(ctx: restate.Context, job: dict[str, int | str]) -> int:
    status = 0
    for _ in range(int(job["count"])):
        status = await ctx.run_typed("get", get, url=str(job["url"]))
    return status


@bench.handler()
async def fan_out(ctx: restate.Context, job: dict[str, int | str]) -> int:
    calls = [ctx.run_typed("get", get, url=str(job["url"])) for _ in range(int(job["width"]))]
    await restate.gather(*calls)
    return sum([await call for call in calls])


class Restate:
    def __init__(self, ingress: httpx.AsyncClient, url: str) -> None:
        self.ingress, self.url = ingress, url

    async def sequential(self, count: int) -> None:
        answer = await self.ingress.post(
            "/Bench/sequential", json={"url": self.url, "count": count}
        )
        answer.raise_for_status()

    async def fan_out(self, width: int) -> None:
        answer = await self.ingress.post("/Bench/fan_out", json={"url": self.url, "width": width})
        answer.raise_for_status()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@asynccontextmanager
async def open_engine(job: harness.Job) -> AsyncIterator[Restate]:
    global _http
    settings = job.settings
    config = Config()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.h2_max_concurrent_streams = 2**31 - 1
    config.keep_alive_max_requests = 2**31 - 1
    stop = asyncio.Event()
    server = asyncio.create_task(
        serve(restate.app(services=[bench]), config, mode="asgi", shutdown_trigger=stop.wait)
    )
    limits = httpx.Limits(max_connections=64)
    async with (
        httpx.AsyncClient(timeout=30, limits=limits) as _http,
        httpx.AsyncClient(base_url=settings["ingress_url"], timeout=120, limits=limits) as ingress,
    ):
        try:
            for _ in range(100):  # until hypercorn listens
                try:
                    await _http.get(f"http://127.0.0.1:{port}/health")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            registered = await _http.post(
                f"{settings['admin_url']}/deployments",
                json={"uri": f"http://127.0.0.1:{port}", "force": True},
            )
            registered.raise_for_status()
            yield Restate(ingress, job.url)
        finally:
            stop.set()
            await server


if __name__ == "__main__":
    harness.main(open_engine)
