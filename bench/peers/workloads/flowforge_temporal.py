"""FlowForge through the Temporal client: runs started on the stack's worker, no API.

What is left of a REST run once the API's part (auth, saving, quotas, polling
for the end) is taken away: the interpreter, its activities and the codec.
It runs in FlowForge's own environment, with the stack's settings in its
environment (data dir, Temporal address), so its payloads are sealed with the
stack's key.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from temporalio.client import Client

from bench.definitions import fan_out, sequential
from bench.peers import harness
from interpreter.contract.client import start_run
from interpreter.contract.run import RunInput, RunMeta
from interpreter.settings import CommonSettings
from interpreter.validation.definition import validate_definition


def parsed(definition: dict[str, Any]) -> RunInput:
    model, issues = validate_definition(definition)
    if model is None:
        raise ValueError(f"the bench definition is invalid: {issues}")
    return RunInput(definition=model, meta=RunMeta(workflow_id="bench", version=1))


class ThroughTemporal:
    def __init__(self, client: Client, queue: str, url: str) -> None:
        self.client, self.queue, self.url = client, queue, url
        self.runs: dict[tuple[str, int], RunInput] = {}

    async def _execute(self, kind: str, size: int) -> None:
        run = self.runs.get((kind, size))
        if run is None:
            build = sequential if kind == "seq" else fan_out
            run = self.runs[kind, size] = parsed(build(self.url, size))
        handle = await start_run(
            self.client, run, id=f"bench-{uuid.uuid4().hex}", task_queue=self.queue
        )
        await handle.result()

    async def sequential(self, count: int) -> None:
        await self._execute("seq", count)

    async def fan_out(self, width: int) -> None:
        await self._execute("fan", width)


@asynccontextmanager
async def open_engine(job: harness.Job) -> AsyncIterator[ThroughTemporal]:
    settings = CommonSettings()
    client = await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=settings.data_converter(),
    )
    yield ThroughTemporal(client, settings.task_queue, job.url)


if __name__ == "__main__":
    harness.main(open_engine)
