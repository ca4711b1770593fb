"""The script activity on a real worker and Temporal dev server: results travel back,
and cancelling the run reaches the child through heartbeats."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.worker import Worker
from temporalio.workflow import ActivityCancellationType

from interpreter.activities import ActivityRequest, ActivityResult, ScriptActivity
from tests.support.activities import script_processes, script_request
from tests.support.eventually import eventually


@workflow.defn(sandboxed=False)
class RunScript:
    """Runs one script node, the way the interpreter schedules node activities."""

    @workflow.run
    async def run(self, request: ActivityRequest) -> ActivityResult:
        return await workflow.execute_activity_method(
            ScriptActivity.script,
            request,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=2),
            retry_policy=RetryPolicy(maximum_attempts=1),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )


async def start(
    client: Client, task_queue: str, code: str
) -> WorkflowHandle[RunScript, ActivityResult]:
    request = script_request(code, input=[1, 2, 3], timeout="50s")
    return await client.start_workflow(
        RunScript.run, request, id=f"script-{uuid.uuid4().hex}", task_queue=task_queue
    )


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
