"""Run lifecycle events out: started, succeeded, failed, suspended (and the other ends).

When a sink is configured (``FLOWFORGE_RUN_EVENTS_NATS_SUBJECT``, or
``FLOWFORGE_RUN_EVENTS_WEBHOOK_URL``), each API process polls Temporal's
visibility every ``FLOWFORGE_RUN_EVENTS_OUT_INTERVAL`` with three lists (runs
started, runs closed, runs suspended since the previous round, each reaching
``FLOWFORGE_RUN_EVENTS_OUT_LOOKBACK`` further back) and sends each event once
it has not sent it before. Polling rather than an activity in every run: the
runs' histories and commands stay as they are, and runs started by schedules
are seen like any other.

Delivery is at least once while the process runs: an event whose send fails
is sent again next round, up to ``FLOWFORGE_RUN_EVENTS_OUT_ATTEMPTS`` times.
Every event has an ``id`` (``<run id>@<event>``), sent as ``Nats-Msg-Id`` and
``Idempotency-Key``, so a consumer drops repeats: several API processes each
send the same events, and a restarted process sends the lookback's again.
Events of runs that changed while no API process ran longer than the lookback
are not sent.

Off (no sink), nothing here runs and ``nats`` is not imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx
from temporalio.client import Client, WorkflowExecution

from app.core.state import AppState
from app.runs.reading import list_runs, summary, visibility_query
from interpreter.activities.webhook.signature import sign
from interpreter.contract.run import RunStatus
from interpreter.egress import EgressPolicy, GuardedTransport

if TYPE_CHECKING:
    from nats.aio.client import Client as Nats

logger = logging.getLogger(__name__)

_SEEN_ROUNDS = 20
"""Rounds beyond the lookback an event's id is remembered (so it is not sent twice)."""


@dataclass
class RunEvent:
    """One lifecycle event and how often sending it failed."""

    id: str
    name: str
    body: dict[str, Any]
    failures: int = 0


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_of(name: str, execution: WorkflowExecution, state: AppState) -> RunEvent:
    """The event ``run.<name>`` of ``execution``: its id and the body every sink gets."""
    run = summary(execution, state.settings).model_dump(mode="json", exclude={"temporal"})
    event_id = f"{execution.id}@{name}"
    body = {
        "id": event_id,
        "type": f"run.{name}",
        "time": datetime.now(UTC).isoformat(),
        "run": run,
    }
    return RunEvent(event_id, name, body)


@dataclass
class RunEventsOut:
    """The poller and the sinks of one API process (see the module docstring)."""

    state: AppState
    http: httpx.AsyncClient | None = None
    nats: Nats | None = None
    pending: list[RunEvent] = field(default_factory=list)
    seen: dict[str, float] = field(default_factory=dict)
    last_round: datetime | None = None
    rounds: int = 0
    """Rounds polled since the process started (for tests)."""

    async def run(self) -> None:
        """Poll until cancelled; a failed round is tried again next interval."""
        interval = self.state.settings.run_events_out_interval
        while True:
            try:
                await self.round()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("run events out: round failed: %s", exc)
            self.rounds += 1
            await asyncio.sleep(interval)

    async def round(self) -> None:
        """Find the events since the last round and send them with the ones still pending."""
        settings = self.state.settings
        now = datetime.now(UTC)
        lookback = timedelta(seconds=settings.run_events_out_lookback)
        since = (self.last_round or now) - lookback
        client = await self.state.temporal.client()
        started = visibility_query(
            workflow_id=None, status=None, owner_id=None, started_after=since
        )
        closed = visibility_query(workflow_id=None, status=None, owner_id=None)
        suspended = visibility_query(workflow_id=None, status=RunStatus.SUSPENDED, owner_id=None)
        for execution in await self._list(client, started):
            self._found("started", execution)
        for execution in await self._list(
            client,
            f"{closed} AND ExecutionStatus != 'Running' AND CloseTime >= '{_rfc3339(since)}'",
        ):
            self._found(summary(execution, settings).status.value, execution)
        for execution in await self._list(client, f"{suspended} AND ExecutionStatus = 'Running'"):
            self._found("suspended", execution)
        self.last_round = now
        await self._send_pending()
        self._forget(lookback)

    async def _list(self, client: Client, query: str) -> list[WorkflowExecution]:
        return await list_runs(
            client,
            query,
            limit=self.state.settings.run_events_out_max_runs,
            rpc_timeout=self.state.temporal.rpc_timeout,
        )

    def _found(self, name: str, execution: WorkflowExecution) -> None:
        event = event_of(name, execution, self.state)
        if event.id in self.seen:
            return
        self.seen[event.id] = time.monotonic()
        self.pending.append(event)

    def _forget(self, lookback: timedelta) -> None:
        horizon = time.monotonic() - (
            lookback.total_seconds() + _SEEN_ROUNDS * self.state.settings.run_events_out_interval
        )
        for event_id in [e for e, at in self.seen.items() if at < horizon]:
            del self.seen[event_id]

    async def _send_pending(self) -> None:
        attempts = self.state.settings.run_events_out_attempts
        still: list[RunEvent] = []
        for event in self.pending:
            try:
                await self._send(event)
            except Exception as exc:
                event.failures += 1
                if event.failures < attempts:
                    still.append(event)
                    logger.info("run event %s not sent (again next round): %s", event.id, exc)
                else:
                    logger.warning(
                        "run event %s dropped after %d failed sends: %s", event.id, attempts, exc
                    )
        self.pending = still

    async def _send(self, event: RunEvent) -> None:
        settings = self.state.settings
        body = json.dumps(event.body, separators=(",", ":")).encode()
        if settings.run_events_nats_subject:
            if self.nats is None:
                # Connected on first use: a NATS that is away delays events, not the API's start.
                import nats

                self.nats = await nats.connect(
                    settings.nats_url, name="flowforge-run-events", max_reconnect_attempts=-1
                )
            subject = f"{settings.run_events_nats_subject}.{event.name}"
            await self.nats.publish(subject, body, headers={"Nats-Msg-Id": event.id})
            await self.nats.flush()
        if self.http is not None:
            timestamp = str(int(time.time()))
            response = await self.http.post(
                settings.run_events_webhook_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Idempotency-Key": event.id,
                    "X-Timestamp": timestamp,
                    "X-Signature": sign(
                        settings.run_events_webhook_secret, body, timestamp, event.id
                    ),
                    "X-Flowforge-Event": event.body["type"],
                },
            )
            if response.status_code >= 300:
                raise RuntimeError(f"the webhook answered {response.status_code}")


@contextlib.asynccontextmanager
async def run_events_out(state: AppState) -> AsyncIterator[RunEventsOut | None]:
    """The process's lifecycle publisher while the API runs; None (nothing runs) without a sink."""
    settings = state.settings
    if not settings.run_events_nats_subject and not settings.run_events_webhook_url:
        yield None
        return
    async with contextlib.AsyncExitStack() as stack:
        out = RunEventsOut(state)
        if settings.run_events_webhook_url:
            policy = EgressPolicy(settings.run_events_webhook_allow)
            out.http = await stack.enter_async_context(
                httpx.AsyncClient(
                    transport=GuardedTransport(policy),
                    timeout=settings.run_events_webhook_timeout,
                    follow_redirects=False,
                )
            )
        task = asyncio.create_task(out.run(), name="flowforge-run-events-out")
        try:
            yield out
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            if out.nats is not None:
                await out.nats.close()
