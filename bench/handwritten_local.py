"""The hand-written sequential chain with local activities: what a short node can cost at best.

The same ``http`` activity and options as :mod:`bench.handwritten`, run by
``workflow.execute_local_activity``; ``bench/local_activities.py`` compares the
interpreter's local nodes with it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from bench.handwritten import get_request
    from interpreter.activities.base import ActivityResult


async def get_local(node_id: str, url: str) -> Any:
    result = await workflow.execute_local_activity(
        "http",
        get_request(node_id, url),
        result_type=ActivityResult,
        activity_id=node_id,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=RetryPolicy(maximum_attempts=1),
        cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    )
    return result.output


@workflow.defn
class SequentialLocalCalls:
    @workflow.run
    async def run(self, url: str, count: int) -> Any:
        last = None
        for i in range(count):
            last = await get_local(f"n{i}", url)
        return last["status"] if last else None
