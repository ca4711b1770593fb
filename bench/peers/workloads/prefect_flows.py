"""Prefect 3: the workloads as flows of tasks, their states recorded by a Prefect server.

Each http call is a task; the fan-out maps the task over the calls (the
flow's task runner runs them in threads) and waits for every result. The
runner starts one ``prefect server`` for the whole bench and points
``PREFECT_API_URL`` at it, as a deployment would; each task call passes its
index, so no call is answered from Prefect's cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prefect import flow, task

from bench.peers import harness

_http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=128))


@task
def get(url: str, index: int) -> int:
    response = _http.get(url)
    response.raise_for_status()
    return response.status_code


@flow
def sequential(url: str, count: int) -> int:
    status = 0
    for index in range(count):
        status = get(url, index)
    return status


@flow
def fan_out(url: str, width: int) -> int:
    futures = get.map(url, list(range(width)))
    return sum(futures.result())


class Prefect:
    def __init__(self, url: str) -> None:
        self.url = url

    async def sequential(self, count: int) -> None:
        await asyncio.to_thread(sequential, self.url, count)

    async def fan_out(self, width: int) -> None:
        await asyncio.to_thread(fan_out, self.url, width)


@asynccontextmanager
async def open_engine(job: harness.Job) -> AsyncIterator[Prefect]:
    yield Prefect(job.url)


if __name__ == "__main__":
    harness.main(open_engine)
