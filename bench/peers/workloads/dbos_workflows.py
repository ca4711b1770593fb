"""DBOS Transact: the workloads as DBOS workflows and steps, checkpointed in PostgreSQL.

Each http call is a step (its output saved before the workflow goes on); the
fan-out starts the steps of an async workflow at once with ``asyncio.gather``
(DBOS numbers steps as they are called, so a recovery replays them in the same
order). Enqueueing one child workflow per call on a DBOS queue is the other
way; its workers poll the queue once a second, and 100 calls took 10 s here.
Its own database (``settings.database_url``) on the local PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from dbos import DBOS, DBOSConfig

from bench.peers import harness

_http: httpx.AsyncClient | None = None


@DBOS.step()
async def get(url: str) -> int:
    assert _http is not None
    response = await _http.get(url)
    response.raise_for_status()
    return response.status_code


@DBOS.workflow()
async def sequential(url: str, count: int) -> int:
    status = 0
    for _ in range(count):
        status = await get(url)
    return status


@DBOS.workflow()
async def fan_out(url: str, width: int) -> int:
    return sum(await asyncio.gather(*(get(url) for _ in range(width))))


class Dbos:
    def __init__(self, url: str) -> None:
        self.url = url

    async def sequential(self, count: int) -> None:
        handle = await DBOS.start_workflow_async(sequential, self.url, count)
        await handle.get_result()

    async def fan_out(self, width: int) -> None:
        handle = await DBOS.start_workflow_async(fan_out, self.url, width)
        await handle.get_result()


@asynccontextmanager
async def open_engine(job: harness.Job) -> AsyncIterator[Dbos]:
    global _http
    config: DBOSConfig = {
        "name": "flowforge-bench",
        "system_database_url": job.settings["database_url"],
    }
    async with httpx.AsyncClient(timeout=30) as _http:
        DBOS(config=config)
        DBOS.launch()
        try:
            yield Dbos(job.url)
        finally:
            DBOS.destroy()


if __name__ == "__main__":
    harness.main(open_engine)
