"""Hand-written Temporal: the workloads as a Temporal user would write them, no FlowForge.

Each http call is one activity (an httpx GET), either a regular activity
(scheduled through the server's task queue, its result in the history) or,
with ``settings.local == "true"``, a local activity (run by the worker that
runs the workflow, recorded as a marker when it completes). Worker and client
share this process; the server is the dev stack's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    import httpx

    from bench.peers import harness

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3)
TIMEOUT = timedelta(seconds=30)

_http: httpx.AsyncClient | None = None


@activity.defn
async def get(url: str) -> int:
    """One GET; a 5xx raises, so Temporal retries it by the policy."""
    assert _http is not None
    response = await _http.get(url)
    response.raise_for_status()
    return response.status_code


async def call(url: str, local: bool) -> int:
    if local:
        return await workflow.execute_local_activity(
            get, url, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
        )
    return await workflow.execute_activity(
        get, url, start_to_close_timeout=TIMEOUT, retry_policy=RETRY
    )


@workflow.defn
class Sequential:
    @workflow.run
    async def run(self, url: str, count: int, local: bool) -> int:
        status = 0
        for _ in range(count):
            status = await call(url, local)
        return status


@workflow.defn
class FanOut:
    @workflow.run
    async def run(self, url: str, width: int, local: bool) -> int:
        statuses = await asyncio.gather(*(call(url, local) for _ in range(width)))
        return sum(statuses)


class Handwritten:
    def __init__(self, client: Client, queue: str, url: str, local: bool) -> None:
        self.client, self.queue, self.url, self.local = client, queue, url, local

    async def _execute(self, workflow_run: Any, size: int) -> None:
        await self.client.execute_workflow(
            workflow_run,
            args=[self.url, size, self.local],
            id=f"bench-{uuid.uuid4().hex}",
            task_queue=self.queue,
        )

    async def sequential(self, count: int) -> None:
        await self._execute(Sequential.run, count)

    async def fan_out(self, width: int) -> None:
        await self._execute(FanOut.run, width)


@asynccontextmanager
async def open_engine(job: harness.Job) -> AsyncIterator[Handwritten]:
    global _http
    settings = job.settings
    client = await Client.connect(settings["temporal_address"], namespace=settings["namespace"])
    queue = f"bench-handwritten-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(timeout=30) as _http:
        worker = Worker(client, task_queue=queue, workflows=[Sequential, FanOut], activities=[get])
        async with worker:
            yield Handwritten(client, queue, job.url, settings.get("local") == "true")


if __name__ == "__main__":
    harness.main(open_engine)
