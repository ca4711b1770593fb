"""Event triggers from NATS JetStream, against a real nats-server from the wheel."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest
from nats.aio.client import Client as Nats
from nats.aio.msg import Msg
from sqlmodel import col, select
from temporalio.worker import Worker

from app.core.state import AppState
from app.db.models.run import RunRecord
from app.main import create_app
from app.runs.ids import idempotent_run_id
from app.settings import Settings
from app.triggers.nats_events import (
    DELIVERIES_HEADER,
    ERROR_HEADER,
    SUBJECT_HEADER,
    message_key,
    retry_delay,
)
from interpreter.validation.triggers import subject_problem
from tests.support.api import API, Actor, create_workflow, definition, make_settings, run_becomes
from tests.support.api import started as started_app
from tests.support.eventually import eventually
from tests.support.nats import nats_server
from tests.support.ports import free_ports

MAX_DELIVERIES = 3


@dataclass
class Bus:
    """The test's NATS server, the API consuming it, and a client to publish with."""

    nats: Nats
    prefix: str
    dead_letter: str
    stream: str
    state: AppState

    def subject(self, name: str) -> str:
        return f"{self.prefix}.{name}"


@pytest.fixture(scope="module")
def nats_url() -> Iterator[str]:
    with nats_server() as url:
        yield url


@pytest.fixture
async def bus(nats_url: str, settings: Settings, worker: Worker) -> AsyncIterator[Bus]:
    tag = uuid.uuid4().hex[:10]
    prefix = f"ff{tag}.events"
    nats_settings = make_settings(
        settings.database_url,
        settings.temporal_address,
        Path(settings.data_dir),
        task_queue=settings.task_queue,
        nats_url=nats_url,
        nats_stream=f"FF_{tag}",
        nats_subjects=[f"{prefix}.>"],
        nats_consumer=f"ff-{tag}",
        nats_dead_letter_subject=f"ff{tag}.dead",
        nats_max_deliveries=MAX_DELIVERIES,
        nats_retry_delay=0.05,
    )
    app = create_app(nats_settings)
    async for _ in started_app(app):
        await asyncio.wait_for(app.state.flowforge_nats.ready.wait(), 20)
        client = await nats.connect(nats_url)
        try:
            yield Bus(client, prefix, f"ff{tag}.dead", f"FF_{tag}", app.state.flowforge)
        finally:
            await client.close()


def _on(subject: Any, **extra: Any) -> dict[str, Any]:
    return definition(
        triggers=[{"type": "event", "event": "lead.qualified", "subject": subject}], **extra
    )


async def _runs_of(state: AppState, workflow_id: str) -> list[RunRecord]:
    async with state.sessions() as session:
        found = await session.exec(
            select(RunRecord).where(col(RunRecord.workflow_id) == uuid.UUID(workflow_id))
        )
        return list(found.all())


async def _succeeds(http: httpx.AsyncClient, actor: Actor, run_id: str) -> dict[str, Any]:
    """The run's detail once the consumer has started it and it has succeeded."""

    async def exists() -> bool:
        response = await http.get(f"{API}/runs/{run_id}", headers=actor.headers)
        return response.status_code == 200

    await eventually(exists, what=f"run {run_id} to start")
    return await run_becomes(http, actor, run_id, "succeeded")


async def _dead_letters(bus: Bus) -> tuple[asyncio.Queue[Msg], Any]:
    queue: asyncio.Queue[Msg] = asyncio.Queue()

    async def collect(message: Msg) -> None:
        await queue.put(message)

    subscription = await bus.nats.subscribe(bus.dead_letter, cb=collect)
    await bus.nats.flush()
    return queue, subscription


async def test_a_message_on_the_subject_starts_a_run_that_succeeds(
    bus: Bus, http: httpx.AsyncClient, editor: Actor
) -> None:
    subject = bus.subject("leads")
    workflow = await create_workflow(http, editor, _on(subject))
    elsewhere = await create_workflow(http, editor, _on(bus.subject("other")))
    js = bus.nats.jetstream()
    ack = await js.publish(
        subject, json.dumps({"lead": 7}).encode(), headers={"Nats-Msg-Id": "lead-7"}
    )
    run_id = idempotent_run_id(
        uuid.UUID(workflow["id"]), message_key("lead-7", bus.stream, ack.seq)
    )
    run = await _succeeds(http, editor, run_id)
    assert (run["input"], run["trigger"]) == ({"lead": 7}, "event")
    assert await _runs_of(bus.state, elsewhere["id"]) == []

    # Published again with the same Nats-Msg-Id: JetStream drops the duplicate.
    again = await js.publish(
        subject, json.dumps({"lead": 7}).encode(), headers={"Nats-Msg-Id": "lead-7"}
    )
    assert again.duplicate
    # A message without an id is a new event: a run of its own.
    other = await js.publish(subject, b'{"lead": 8}')
    other_id = idempotent_run_id(
        uuid.UUID(workflow["id"]), message_key(None, bus.stream, other.seq)
    )
    await _succeeds(http, editor, other_id)
    assert len(await _runs_of(bus.state, workflow["id"])) == 2


async def test_a_start_that_keeps_failing_is_dead_lettered_and_redeliveries_start_no_second_run(
    bus: Bus, http: httpx.AsyncClient, editor: Actor
) -> None:
    subject = bus.subject("orders")
    fine = await create_workflow(http, editor, _on(subject))
    paused = await create_workflow(http, editor, _on(subject))
    strict = await create_workflow(
        http, editor, _on(subject, input_schema={"type": "object", "required": ["email"]})
    )
    response = await http.patch(
        f"{API}/workflows/{paused['id']}", json={"status": "paused"}, headers=editor.headers
    )
    assert response.status_code == 200, response.text
    dead, subscription = await _dead_letters(bus)

    await bus.nats.jetstream().publish(subject, b'{"order": 1}', headers={"Nats-Msg-Id": "o-1"})
    letter = await asyncio.wait_for(dead.get(), 30)
    await subscription.unsubscribe()
    headers = letter.headers or {}
    assert json.loads(letter.data) == {"order": 1}
    assert headers[SUBJECT_HEADER] == subject
    assert headers[DELIVERIES_HEADER] == str(MAX_DELIVERIES)
    assert headers["Nats-Msg-Id"] == "o-1"
    assert "is paused" in headers[ERROR_HEADER]
    assert "input_schema" in headers[ERROR_HEADER]
    # Three deliveries, and the one workflow that could start has one run.
    runs = await _runs_of(bus.state, fine["id"])
    assert len(runs) == 1
    await run_becomes(http, editor, runs[0].run_id, "succeeded")
    assert await _runs_of(bus.state, paused["id"]) == []
    assert await _runs_of(bus.state, strict["id"]) == []


async def test_a_message_that_is_not_json_is_dead_lettered_at_once(
    bus: Bus, http: httpx.AsyncClient, editor: Actor
) -> None:
    subject = bus.subject("broken")
    workflow = await create_workflow(http, editor, _on(subject))
    dead, subscription = await _dead_letters(bus)
    await bus.nats.jetstream().publish(subject, b"{not json")
    letter = await asyncio.wait_for(dead.get(), 30)
    await subscription.unsubscribe()
    assert (letter.headers or {})[DELIVERIES_HEADER] == "1"
    assert "not JSON" in (letter.headers or {})[ERROR_HEADER]
    assert await _runs_of(bus.state, workflow["id"]) == []


async def test_the_same_message_id_later_answers_the_run_it_started(
    bus: Bus, http: httpx.AsyncClient, editor: Actor
) -> None:
    # Past JetStream's duplicate window the same Nats-Msg-Id is stored again,
    # as a publisher retrying late would store it: the run is still the first one.
    js = bus.nats.jetstream()
    info = await js.stream_info(bus.stream)
    info.config.duplicate_window = 0.2
    await js.update_stream(info.config)
    subject = bus.subject("late")
    workflow = await create_workflow(http, editor, _on(subject))
    first = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "late-1"})
    run_id = idempotent_run_id(
        uuid.UUID(workflow["id"]), message_key("late-1", bus.stream, first.seq)
    )
    await _succeeds(http, editor, run_id)
    await asyncio.sleep(0.5)
    second = await js.publish(subject, b"{}", headers={"Nats-Msg-Id": "late-1"})
    assert not second.duplicate
    assert second.seq > first.seq

    async def consumed() -> bool:
        consumer = await js.consumer_info(bus.stream, bus.state.settings.nats_consumer)
        return bool(consumer.ack_floor.stream_seq >= second.seq)

    await eventually(consumed, what="the second message to be acknowledged")
    assert [r.run_id for r in await _runs_of(bus.state, workflow["id"])] == [run_id]


@pytest.mark.fast
@pytest.mark.parametrize(("deliveries", "expected"), [(1, 0.5), (2, 1.0), (3, 2.0), (10, 30.0)])
def test_the_retry_delay_doubles_up_to_the_most(deliveries: int, expected: float) -> None:
    assert retry_delay(deliveries, 0.5, 30.0) == expected


@pytest.mark.fast
def test_a_message_key_fits_an_idempotency_key() -> None:
    assert message_key("abc", "S", 4) == "nats:id:abc"
    assert message_key(None, "S", 4) == "nats:seq:S:4"
    hashed = message_key("x" * 300, "S", 1)
    assert hashed.startswith("nats:sha256:")
    assert len(hashed) <= 200
    assert message_key("é é", "S", 1).startswith("nats:sha256:")


async def test_a_trigger_subject_is_checked_at_save(http: httpx.AsyncClient, editor: Actor) -> None:
    for subject, words in [
        ("leads.*", "wildcard"),
        ("leads.>", "wildcard"),
        ("leads..x", "empty token"),
        ("has space", "visible ASCII"),
        (7, "a string"),
    ]:
        response = await http.post(
            f"{API}/workflows",
            json={"definition": _on(subject)},
            headers=editor.headers,
        )
        assert response.status_code == 422, response.text
        errors = response.json()["errors"]
        assert errors[0]["path"] == "/triggers/0/subject", errors
        assert errors[0]["code"] == "invalid_subject"
        assert words in errors[0]["message"]


async def test_off_by_default_nothing_consumes(app: Any) -> None:
    assert app.state.flowforge_nats is None


@pytest.mark.fast
@pytest.mark.parametrize("subject", ["flowforge.events.leads", "a", "Orders-EU_1.v2", "x" * 255])
def test_a_literal_subject_is_accepted(subject: str) -> None:
    assert subject_problem(subject) is None


@pytest.mark.fast
def test_a_subject_too_long_is_refused() -> None:
    assert subject_problem("x" * 256) == "a subject has 1 to 255 characters"
    assert subject_problem("") == "a subject has 1 to 255 characters"


async def test_an_unreachable_nats_does_not_hold_up_the_api(settings: Settings) -> None:
    (port,) = free_ports(1)  # nothing listens there
    away = make_settings(
        settings.database_url,
        settings.temporal_address,
        Path(settings.data_dir),
        nats_url=f"nats://127.0.0.1:{port}",
    )
    app = create_app(away)
    async for http in started_app(app):
        assert (await http.get("/healthz")).status_code == 200
        await asyncio.sleep(0.5)
        assert not app.state.flowforge_nats.ready.is_set()
