"""The script activity on a real worker and Temporal dev server: results travel back,
and cancelling the run reaches the child through heartbeats."""

from __future__ import annotations

import pytest
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.worker import Worker

from interpreter.activities import ActivityResult, ScriptActivity
from tests.support.activities import RunScript, script_processes, script_request, start_script
from tests.support.eventually import eventually


async def start(
    client: Client, task_queue: str, code: str
) -> WorkflowHandle[RunScript, ActivityResult]:
    request = script_request(code, input=[1, 2, 3], timeout="50s")
    return await start_script(client, task_queue, request)


async def test_the_result_travels_back(client: Client, task_queue: str) -> None:
    script = ScriptActivity()
    async with Worker(
        client, task_queue=task_queue, workflows=[RunScript], activities=[script.script]
    ):
        handle = await start(
            client, task_queue, "def main(input):\n    return {'sum': sum(input)}\n"
        )
        result = await handle.result()

    assert result.output == {"sum": 6}


async def test_cancelling_the_run_kills_the_script(client: Client, task_queue: str) -> None:
    script = ScriptActivity()
    async with Worker(
        client, task_queue=task_queue, workflows=[RunScript], activities=[script.script]
    ):
        handle = await start(
            client, task_queue, "def main(input):\n    while True:\n        pass\n"
        )
        await eventually(lambda: bool(script_processes()), within=20, what="the script to start")

        await handle.cancel()

        with pytest.raises(WorkflowFailureError):
            await handle.result()
    assert script_processes() == []
