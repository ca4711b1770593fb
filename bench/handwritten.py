"""Hand-written Temporal workflows doing the benchmark's work without the interpreter.

They call the same ``http`` activity with the same options the interpreter
uses, so the difference measured is the interpreter's own cost.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from interpreter.activities.base import ActivityRequest, ActivityResult


def get_request(node_id: str, url: str) -> ActivityRequest:
    """The ``http`` activity's request for a GET of ``url``, as the interpreter builds it."""
    return ActivityRequest(
        run_id=workflow.info().workflow_id,
        node_id=node_id,
        node_path=node_id,
        node_type="http",
        config={"method": "GET", "url": url},
    )


async def get(node_id: str, url: str) -> Any:
    result = await workflow.execute_activity(
        "http",
        get_request(node_id, url),
        result_type=ActivityResult,
        activity_id=node_id,
        start_to_close_timeout=timedelta(seconds=30),
        heartbeat_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(
            initial_interval=timedelta(seconds=1),
            backoff_coefficient=2.0,
            maximum_interval=timedelta(minutes=1),
            maximum_attempts=3,
        ),
        cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    )
    return result.output


@workflow.defn
class SequentialCalls:
    @workflow.run
    async def run(self, url: str, count: int) -> Any:
        last = None
        for i in range(count):
            last = await get(f"n{i}", url)
        return last["status"] if last else None


@workflow.defn
class FanOutJoin:
    @workflow.run
    async def run(self, url: str, width: int) -> Any:
        outputs = await asyncio.gather(*(get(f"n{i}", url) for i in range(width)))
        return sum(out["status"] for out in outputs)


@workflow.defn
class Diamond:
    @workflow.run
    async def run(self, url: str, middle: int) -> Any:
        await get("top", url)
        await asyncio.gather(*(get(f"m{i}", url) for i in range(middle)))
        return (await get("bottom", url))["status"]
