"""FlowForge through its REST API, as a client program would use it.

Each workload is saved once as a workflow (``POST /workflows``); each run is
``POST /workflows/{id}/runs``, then ``GET /runs/{id}/output`` until it stops
answering 409 (still running). The API has no call that waits for a run's end,
so polling is part of what a REST client pays: every caller polls each
``poll_ms`` (20 ms), less often when many poll at once, so that the polls
together stay near 200 a second and do not load the API more than the runs do.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from bench.definitions import fan_out, sequential
from bench.peers import harness

POLLS_PER_SECOND = 200


class ThroughRest:
    def __init__(self, http: httpx.AsyncClient, url: str, poll: float) -> None:
        self.http, self.url, self.poll = http, url, poll
        self.workflows: dict[tuple[str, int], str] = {}
        self.waiting = 0

    async def _workflow(self, kind: str, size: int) -> str:
        key = (kind, size)
        if key not in self.workflows:
            build = sequential if kind == "seq" else fan_out
            # A name of its own: each process saves its workflows anew.
            definition = {**build(self.url, size), "name": f"bench-{kind}{size}-{uuid.uuid4().hex}"}
            answer = await self.http.post("/workflows", json={"definition": definition})
            answer.raise_for_status()
            self.workflows[key] = answer.json()["id"]
        return self.workflows[key]

    async def _run(self, kind: str, size: int) -> Any:
        workflow_id = await self._workflow(kind, size)
        started = await self.http.post(f"/workflows/{workflow_id}/runs", json={"input": {}})
        started.raise_for_status()
        run_id = started.json()["run_id"]
        self.waiting += 1
        try:
            while True:
                await asyncio.sleep(max(self.poll, self.waiting / POLLS_PER_SECOND))
                output = await self.http.get(f"/runs/{run_id}/output")
                if output.status_code != 409:
                    output.raise_for_status()
                    return output.json()
                if "running" not in output.json().get("detail", ""):
                    raise RuntimeError(f"run {run_id} did not succeed: {output.text}")
        finally:
            self.waiting -= 1

    async def sequential(self, count: int) -> None:
        await self._run("seq", count)

    async def fan_out(self, width: int) -> None:
        await self._run("fan", width)


@asynccontextmanager
async def open_engine(job: harness.Job) -> AsyncIterator[ThroughRest]:
    settings = job.settings
    base = f"{settings['api_url']}/api/v1"
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        login = await http.post(
            "/auth/token",
            json={
                "username": settings["username"],
                "password": os.environ["FLOWFORGE_BENCH_PASSWORD"],
            },
        )
        login.raise_for_status()
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        yield ThroughRest(http, job.url, float(settings.get("poll_ms", "20")) / 1000)


if __name__ == "__main__":
    harness.main(open_engine)
