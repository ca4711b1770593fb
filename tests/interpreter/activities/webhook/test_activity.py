"""The webhook node against a real receiver: signatures, retries, records, the guard."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from app.triggers.hook_signature import signature_problem
from interpreter.activities import (
    DeliveryRecord,
    DeliveryRecorder,
    WebhookActivity,
    WebhookSettings,
)
from tests.support.activities import (
    TEST_KEYS,
    MemoryRecorder,
    StaticSecrets,
    fail,
    node_request,
    run,
)
from tests.support.peer import Peer, Reply, Seen

SECRET = "whsec-4f1c"


class BrokenRecorder:
    async def record(self, delivery: DeliveryRecord) -> None:
        raise RuntimeError("database is down")


class HangingRecorder:
    async def record(self, delivery: DeliveryRecord) -> None:
        await asyncio.Event().wait()


def verifying(secret: str) -> Any:
    """A receiver that checks the v1 signature the way the docs tell receivers to."""

    def handler(seen: Seen) -> Reply:
        timestamp = seen.headers.get("x-timestamp", "")
        key = seen.headers.get("idempotency-key", "")
        signed = f"v1:{timestamp}:{key}:".encode() + seen.body
        expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
        if not fresh or not hmac.compare_digest(expected, seen.headers.get("x-signature", "")):
            return Reply(status=401, body={"error": "bad signature"})
        return Reply(status=202, body={"accepted": True})

    return handler


def flowforge_hook(secret: str) -> Any:
    """A receiver that checks signatures with FlowForge's own inbound hook check."""

    def handler(seen: Seen) -> Reply:
        problem = signature_problem(
            secret=secret,
            body=seen.body,
            signature=seen.headers.get("x-signature"),
            timestamp=seen.headers.get("x-timestamp"),
            now=time.time(),
            max_skew=300,
            idempotency_key=seen.headers.get("idempotency-key"),
        )
        if problem is not None:
            return Reply(status=401, body={"error": problem})
        return Reply(status=202, body={"accepted": True})

    return handler


@pytest.fixture
def recorder() -> MemoryRecorder:
    return MemoryRecorder()


def hook(client: httpx.AsyncClient, recorder: DeliveryRecorder, **settings: Any) -> WebhookActivity:
    return WebhookActivity(
        client,
        WebhookSettings(**settings),
        recorder=recorder,
        secrets=StaticSecrets({"hook_key": SECRET}),
        keys=TEST_KEYS,
    )


def request(config: dict[str, Any], *, node_path: str = "call", **kwargs: Any) -> Any:
    req = node_request(config, node_type="webhook", **kwargs)
    return req.model_copy(update={"node_path": node_path})


DELIVERY_ID = hashlib.sha256(b"run-1:call").hexdigest()


@pytest.mark.parametrize("secret", ["{{ secrets.hook_key }}", SECRET], ids=["hole", "literal"])
async def test_signature_verifies_on_the_receiver(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer, secret: str
) -> None:
    peer.route("/hook", verifying(SECRET))
    payload = {"lead": {"id": 7, "name": "Zoë"}, "score": 91.5}
    config = {"url": peer.url + "/hook", "payload": payload, "secret": secret}

    output = await run(hook(http_client, recorder).webhook, request(config))

    assert output == {"status": 202, "delivery_id": DELIVERY_ID}
    (seen,) = peer.hits("/hook")
    assert seen.method == "POST"
    assert seen.json() == payload
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["x-delivery-id"] == DELIVERY_ID
    (record,) = recorder.records
    assert (record.run_id, record.node_id, record.node_path) == ("run-1", "call", "call")
    assert (record.attempt, record.status, record.error_type, record.error) == (1, 202, None, None)
    assert record.delivery_id == DELIVERY_ID
    assert record.url == peer.url + "/hook"
    assert record.latency_ms > 0


@pytest.mark.parametrize("idempotency", [None, "key-7f3a"], ids=["no-key", "key"])
async def test_deliveries_pass_flowforges_own_inbound_check(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer, idempotency: str | None
) -> None:
    peer.route("/hook", flowforge_hook(SECRET))
    config = {"url": peer.url + "/hook", "payload": {"a": 1}, "secret": "{{ secrets.hook_key }}"}

    before = int(time.time())
    output = await run(
        hook(http_client, recorder).webhook, request(config, idempotency_key=idempotency)
    )

    assert output["status"] == 202
    (seen,) = peer.hits("/hook")
    assert before <= int(seen.headers["x-timestamp"]) <= time.time()
    assert seen.headers.get("idempotency-key") == idempotency
    # The signature covers the timestamp and the key: changing either breaks it.
    forged = {"x-timestamp": str(int(seen.headers["x-timestamp"]) + 1)}
    assert flowforge_hook(SECRET)(_with(seen, forged)).status == 401
    if idempotency is not None:
        assert flowforge_hook(SECRET)(_with(seen, {"idempotency-key": "other"})).status == 401


def _with(seen: Seen, headers: dict[str, str]) -> Seen:
    return Seen(
        seen.method, seen.path, {**seen.headers, **headers}, seen.body, seen.at, seen.in_flight
    )


async def test_a_wrong_secret_is_refused_and_not_retried(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    peer.route("/hook", verifying(SECRET))
    config = {"url": peer.url + "/hook", "payload": {"a": 1}, "secret": "not-the-key"}

    error = await fail(hook(http_client, recorder).webhook, request(config))

    assert error.type == "HttpStatusError"
    assert error.non_retryable
    assert "answered 401" in error.message


async def test_without_secret_there_is_no_signature(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    await run(hook(http_client, recorder).webhook, request({"url": peer.url + "/h"}))

    (seen,) = peer.hits("/h")
    assert "x-signature" not in seen.headers
    assert seen.body == b"null"


async def test_503_is_retried_and_every_attempt_recorded(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    peer.script("/busy", [Reply(status=503, headers={"Retry-After": "3"}), Reply(status=200)])
    activity = hook(http_client, recorder)
    config = {"url": peer.url + "/busy", "payload": {"n": 1}}

    error = await fail(activity.webhook, request(config), attempt=1)
    output = await run(activity.webhook, request(config), attempt=2)

    assert error.type == "HttpStatusError"
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=3)
    assert output["status"] == 200
    first, second = recorder.records
    assert (first.attempt, first.status, first.error_type) == (1, 503, "HttpStatusError")
    assert first.error is not None
    assert "answered 503" in first.error
    assert (second.attempt, second.status, second.error_type) == (2, 200, None)
    ids = {seen.headers["x-delivery-id"] for seen in peer.hits("/busy")}
    assert ids == {first.delivery_id} == {second.delivery_id}


async def test_400_is_not_retried(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    peer.route("/bad", Reply(status=400, body={"error": "unknown event"}))

    error = await fail(hook(http_client, recorder).webhook, request({"url": peer.url + "/bad"}))

    assert error.type == "HttpStatusError"
    assert error.non_retryable
    (record,) = recorder.records
    assert (record.status, record.error_type) == (400, "HttpStatusError")


async def test_redirects_are_not_followed(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    peer.route("/moved", Reply(status=307, headers={"Location": "/elsewhere"}))

    error = await fail(hook(http_client, recorder).webhook, request({"url": peer.url + "/moved"}))

    assert "answered 307" in error.message
    assert not peer.hits("/elsewhere")


async def test_expect_status_decides_what_is_delivered(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    peer.route("/gone", Reply(status=410))
    config = {"url": peer.url + "/gone", "expect_status": [200, 410]}

    output = await run(hook(http_client, recorder).webhook, request(config))

    assert output["status"] == 410


async def test_delivery_id_is_stable_per_run_and_node_path(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, peer: Peer
) -> None:
    activity = hook(http_client, recorder)
    config = {"url": peer.url + "/h"}

    first = await run(activity.webhook, request(config, node_path="notify[0]"))
    again = await run(activity.webhook, request(config, node_path="notify[0]"), attempt=2)
    other = await run(activity.webhook, request(config, node_path="notify[1]"))

    assert first["delivery_id"] == again["delivery_id"]
    assert first["delivery_id"] == hashlib.sha256(b"run-1:notify[0]").hexdigest()
    assert other["delivery_id"] != first["delivery_id"]
    assert [seen.headers["x-delivery-id"] for seen in peer.hits("/h")] == [
        first["delivery_id"],
        first["delivery_id"],
        other["delivery_id"],
    ]


async def test_the_egress_guard_applies(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, canary: Peer
) -> None:
    error = await fail(hook(http_client, recorder).webhook, request({"url": canary.url + "/h"}))

    assert error.type == "EgressDenied"
    assert error.non_retryable
    assert canary.requests == []
    (record,) = recorder.records
    assert (record.status, record.error_type) == (None, "EgressDenied")


async def test_a_network_failure_is_retryable_and_recorded(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder
) -> None:
    closed = Peer()
    url = closed.url + "/h"
    closed.close()

    error = await fail(hook(http_client, recorder).webhook, request({"url": url}))

    assert error.type == "HttpNetworkError"
    assert not error.non_retryable
    (record,) = recorder.records
    assert (record.status, record.error_type) == (None, "HttpNetworkError")


@pytest.mark.parametrize("broken", [BrokenRecorder(), HangingRecorder()], ids=["raises", "hangs"])
async def test_a_failing_recorder_does_not_fail_the_delivery(
    http_client: httpx.AsyncClient,
    peer: Peer,
    broken: DeliveryRecorder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    activity = hook(http_client, broken, record_timeout=0.2)

    with caplog.at_level(logging.WARNING):
        output = await run(activity.webhook, request({"url": peer.url + "/h"}))

    assert output["status"] == 200
    assert f"could not record attempt 1 of webhook delivery {DELIVERY_ID}" in caplog.text


@pytest.mark.parametrize(
    ("config", "says"),
    [
        ({"url": "http://x/", "headers": {"X-Signature": "forged"}}, "set by the webhook node"),
        ({"url": "http://x/", "headers": {"Host": "y"}}, "set by the client"),
        ({"url": "http://x/", "expect_status": [99]}, "config.expect_status[0]"),
        ({"url": "http://x/", "method": "GET"}, "config.method: Extra inputs"),
        ({"url": "not a url"}, "config.url"),
    ],
)
async def test_bad_config_fails_before_sending(
    http_client: httpx.AsyncClient, recorder: MemoryRecorder, config: dict[str, Any], says: str
) -> None:
    error = await fail(hook(http_client, recorder).webhook, request(config))

    assert error.type == "ConfigError"
    assert says in error.message
    assert recorder.records == []


async def test_secret_holes_need_a_resolver(http_client: httpx.AsyncClient, peer: Peer) -> None:
    activity = WebhookActivity(http_client)
    config = {"url": peer.url + "/h", "secret": "{{ secrets.hook_key }}"}

    error = await fail(activity.webhook, request(config))

    assert error.message == "node 'call': config: secrets are not configured on this worker"
    assert peer.requests == []
