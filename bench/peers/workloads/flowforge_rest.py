"""FlowForge through its REST API, as a client program would use it.

Each workload is saved once as a workflow (``POST /workflows``); each run is
one ``POST /workflows/{id}/runs?wait=60``, which answers with the run's output
once it ends. With ``poll_ms`` set (the engine setting ``poll``), a run is
started without waiting and ``GET /runs/{id}/output`` is polled every
``poll_ms`` instead (less often when many poll at once, so that the polls
together stay near 200 a second), as a client of an API without waiting would.
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
WAIT_SECONDS = 60


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
        params = {} if self.poll else {"wait": WAIT_SECONDS}
        started = await self.http.post(
            f"/workflows/{workflow_id}/runs", params=params, json={"input": {}}
        )
        started.raise_for_status()
        answer = started.json()
        if started.status_code == 200 and answer["status"] != "running":
            if answer["status"] != "succeeded":
                raise RuntimeError(f"run {answer['run_id']} did not succeed: {answer['error']}")
            return answer["output"]
        run_id = answer["run_id"]
        self.waiting += 1
        try:
            while True:
                await asyncio.sleep(max(self.poll, self.waiting / POLLS_PER_SECOND, 0.02))
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
        yield ThroughRest(http, job.url, float(settings.get("poll_ms", "0")) / 1000)


if __name__ == "__main__":
    harness.main(open_engine)
