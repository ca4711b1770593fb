"""Run lifecycle events out: to a NATS subject (the wheel's nats-server) and a signed webhook."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.msg import Msg
from temporalio.worker import Worker

from app.main import create_app
from app.settings import Settings
from app.triggers.hook_signature import signature_problem
from tests.app.test_run_suspend import suspending
from tests.support.api import Actor, definition, make_settings, run_becomes, run_of
from tests.support.api import started as started_app
from tests.support.eventually import eventually
from tests.support.nats import nats_server
from tests.support.peer import Peer, Reply

SECRET = "whsec_lifecycle-test-secret"


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture
async def sink(
    nats_url: str, settings: Settings, worker: Worker, peer: Peer
) -> AsyncIterator[tuple[str, asyncio.Queue[Msg]]]:
    subject = f"ff{uuid.uuid4().hex[:10]}.runs"
    received: asyncio.Queue[Msg] = asyncio.Queue()
    client = await nats.connect(nats_url)

    async def collect(message: Msg) -> None:
        await received.put(message)

    await client.subscribe(f"{subject}.>", cb=collect)
    await client.flush()
    # The first call fails: its event is sent again next round.
    peer.script("/lifecycle", [Reply(503), Reply(200)])
    out_settings = make_settings(
        settings.database_url,
        settings.temporal_address,
        Path(settings.data_dir),
        task_queue=settings.task_queue,
        nats_url=nats_url,
        nats_triggers=False,
        run_events_nats_subject=subject,
        run_events_webhook_url=f"{peer.url}/lifecycle",
        run_events_webhook_secret=SECRET,
        run_events_webhook_allow=["127.0.0.1/32"],
        run_events_out_interval=0.2,
        run_events_out_lookback=5.0,
    )
    app = create_app(out_settings)
    try:
        async for _ in started_app(app):
            assert app.state.flowforge_nats is None  # triggers off: only the sink
            yield subject, received
    finally:
        await client.close()


async def test_lifecycle_events_reach_the_subject_and_the_signed_webhook(
    sink: tuple[str, asyncio.Queue[Msg]], http: httpx.AsyncClient, editor: Actor, peer: Peer
) -> None:
    subject, received = sink
    peer.route("/charge", Reply(500, {"error": "card declined"}))
    ok = await run_of(http, editor, definition())
    suspended = await run_of(http, editor, suspending(peer.url))
    failing = await run_of(http, editor, {**suspending(peer.url), "on_failure": "fail"})
    await run_becomes(http, editor, ok, "succeeded")
    await run_becomes(http, editor, suspended, "suspended")
    await run_becomes(http, editor, failing, "failed")
    wanted = {
        (ok, "started"),
        (ok, "succeeded"),
        (suspended, "started"),
        (suspended, "suspended"),
        (failing, "started"),
        (failing, "failed"),
    }
    ours = {ok, suspended, failing}

    seen: dict[tuple[str, str], Msg] = {}

    async def on_nats() -> bool:
        while not received.empty():
            message = received.get_nowait()
            body = json.loads(message.data)
            if body["run"]["run_id"] in ours:
                seen[(body["run"]["run_id"], message.subject.rsplit(".", 1)[1])] = message
        return wanted <= set(seen)

    await eventually(on_nats, within=30, what="lifecycle events on the subject")
    message = seen[(ok, "succeeded")]
    body = json.loads(message.data)
    assert message.subject == f"{subject}.succeeded"
    assert (body["id"], body["type"]) == (f"{ok}@succeeded", "run.succeeded")
    assert (message.headers or {})["Nats-Msg-Id"] == f"{ok}@succeeded"
    assert body["run"]["status"] == "succeeded"
    assert body["run"]["owner_id"] == editor.id

    def on_webhook() -> bool:
        found = set()
        for hit in peer.hits("/lifecycle"):
            event = hit.json()
            if event["run"]["run_id"] in ours:
                found.add((event["run"]["run_id"], event["type"].removeprefix("run.")))
        return wanted <= found

    await eventually(on_webhook, within=30, what="lifecycle events at the webhook")
    hits = peer.hits("/lifecycle")
    assert hits[0].json()["id"] in {hit.json()["id"] for hit in hits[1:]}  # the 503 was resent
    for hit in hits:
        headers = {k.lower(): v for k, v in hit.headers.items()}
        assert headers["idempotency-key"] == hit.json()["id"]
        problem = signature_problem(
            secret=SECRET,
            body=hit.body,
            signature=headers.get("x-signature"),
            timestamp=headers.get("x-timestamp"),
            now=time.time(),
            max_skew=300,
            idempotency_key=headers["idempotency-key"],
        )
        assert problem is None, problem
    # Each event once at the webhook once it was taken (repeats are dropped by id).
    taken = [hit.json()["id"] for hit in hits[1:]]
    assert len(taken) == len(set(taken))


def test_a_webhook_sink_needs_its_secret(settings: Settings) -> None:
    with pytest.raises(ValueError, match="FLOWFORGE_RUN_EVENTS_WEBHOOK_SECRET"):
        make_settings(
            settings.database_url,
            settings.temporal_address,
            Path(settings.data_dir),
            run_events_webhook_url="http://127.0.0.1:9/x",
        )
    with pytest.raises(ValueError, match="FLOWFORGE_NATS_URL"):
        make_settings(
            settings.database_url,
            settings.temporal_address,
            Path(settings.data_dir),
            run_events_nats_subject="flowforge.runs",
        )


async def test_off_by_default_nothing_polls(app: Any) -> None:
    assert app.state.flowforge_events_out is None
