"""The webhook activity on a real worker and Temporal dev server: each retry Temporal
runs is one recorded attempt with the same delivery id."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from interpreter.activities import ActivityRequest, ActivityResult, WebhookActivity
from tests.support.activities import MemoryRecorder, node_request
from tests.support.peer import Peer, Reply


@workflow.defn(sandboxed=False)
class DeliverNode:
    """Runs one webhook node, the way the interpreter schedules node activities."""

    @workflow.run
    async def run(self, request: ActivityRequest) -> ActivityResult:
        return await workflow.execute_activity_method(
            WebhookActivity.webhook,
            request,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=100), maximum_attempts=3
            ),
        )


async def deliver(
    client: Client, webhook: WebhookActivity, task_queue: str, url: str
) -> ActivityResult:
    request = node_request({"url": url, "payload": {"n": 1}}, node_type="webhook")
    async with Worker(
        client, task_queue=task_queue, workflows=[DeliverNode], activities=[webhook.webhook]
    ):
        return await client.execute_workflow(
            DeliverNode.run, request, id=f"deliver-{uuid.uuid4().hex}", task_queue=task_queue
        )


async def test_each_retry_is_a_recorded_attempt(
    client: Client, http_client: httpx.AsyncClient, task_queue: str, peer: Peer
) -> None:
    peer.script("/hook", [Reply(status=503), Reply(status=503), Reply(status=204, raw=b"")])
    recorder = MemoryRecorder()

    result = await deliver(
        client, WebhookActivity(http_client, recorder=recorder), task_queue, peer.url + "/hook"
    )

    assert result.attempt == 3
    assert result.output["status"] == 204
    assert [(r.attempt, r.status, r.error_type) for r in recorder.records] == [
        (1, 503, "HttpStatusError"),
        (2, 503, "HttpStatusError"),
        (3, 204, None),
    ]
    ids = {r.delivery_id for r in recorder.records}
    assert ids == {result.output["delivery_id"]}
    assert {seen.headers["x-delivery-id"] for seen in peer.hits("/hook")} == ids


async def test_a_client_error_is_one_attempt(
    client: Client, http_client: httpx.AsyncClient, task_queue: str, peer: Peer
) -> None:
    peer.route("/hook", Reply(status=400))
    recorder = MemoryRecorder()

    with pytest.raises(WorkflowFailureError):
        await deliver(
            client, WebhookActivity(http_client, recorder=recorder), task_queue, peer.url + "/hook"
        )

    assert [(r.attempt, r.status) for r in recorder.records] == [(1, 400)]
    assert len(peer.hits("/hook")) == 1
