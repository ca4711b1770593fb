"""The http activity on a real worker and Temporal dev server: retries as Temporal runs them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from interpreter.activities import ActivityRequest, ActivityResult, HttpActivity
from tests.support.activities import node_request
from tests.support.peer import Peer, Reply

# Far longer than the Retry-After below: a retry this soon can only come from it.
SLOW_RETRY = RetryPolicy(initial_interval=timedelta(seconds=30), maximum_attempts=3)


@workflow.defn(sandboxed=False)
class CallNode:
    """Runs one http node, the way the interpreter schedules node activities."""

    @workflow.run
    async def run(self, request: ActivityRequest) -> ActivityResult:
        # By method reference, so the result is decoded with the activity's own
        # return hint: it must be the envelope, not the raw output.
        return await workflow.execute_activity_method(
            HttpActivity.http,
            request,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=SLOW_RETRY,
        )


async def call(
    client: Client, http_client: httpx.AsyncClient, task_queue: str, request: ActivityRequest
) -> ActivityResult:
    http = HttpActivity(http_client)
    async with Worker(client, task_queue=task_queue, workflows=[CallNode], activities=[http.http]):
        return await client.execute_workflow(
            CallNode.run, request, id=f"call-{uuid.uuid4().hex}", task_queue=task_queue
        )


async def test_retry_after_sets_the_delay_temporal_waits(
    client: Client, http_client: httpx.AsyncClient, task_queue: str, peer: Peer
) -> None:
    peer.script(
        "/rate",
        [Reply(status=429, headers={"Retry-After": "1"}), Reply(body={"ok": True})],
    )

    result = await call(client, http_client, task_queue, node_request({"url": peer.url + "/rate"}))

    assert isinstance(result, ActivityResult)
    assert result.attempt == 2
    assert result.output["body"] == {"ok": True}
    first, second = peer.hits("/rate")
    assert 0.9 <= second.at - first.at < 10


async def test_client_error_fails_without_retrying(
    client: Client, http_client: httpx.AsyncClient, task_queue: str, peer: Peer
) -> None:
    peer.route("/bad", Reply(status=422, body={"error": "email is required"}))

    with pytest.raises(WorkflowFailureError) as failed:
        await call(client, http_client, task_queue, node_request({"url": peer.url + "/bad"}))

    activity_error = failed.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    assert cause.type == "HttpStatusError"
    assert cause.non_retryable
    assert 'answered 422: {"error": "email is required"}' in cause.message
    assert len(peer.hits("/bad")) == 1
