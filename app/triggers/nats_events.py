"""Event triggers from NATS JetStream: a message on a trigger's subject starts its runs.

Every API process binds the same durable pull consumer
(``FLOWFORGE_NATS_CONSUMER``) on ``FLOWFORGE_NATS_STREAM``, so each message
reaches one process, and is handled at least once:

* its runs start through the same path as ``POST /events``
  (:func:`app.triggers.event_runs.start_event_runs`), with an idempotency key
  made from the message's ``Nats-Msg-Id`` (else its stream sequence), so a
  redelivered message answers the runs the first delivery started;
* it is acknowledged once they have started;
* a start that fails (a paused workflow, a payload the ``input_schema``
  refuses, Temporal away) is refused with a delay that doubles per delivery,
  and after ``FLOWFORGE_NATS_MAX_DELIVERIES`` deliveries the message is
  published to ``FLOWFORGE_NATS_DEAD_LETTER_SUBJECT`` and acknowledged.

``nats`` is imported only when ``FLOWFORGE_NATS_URL`` is set: off, this costs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from app.core.state import AppState
from app.errors import ApiError
from app.triggers.event_runs import start_event_runs

if TYPE_CHECKING:
    from nats.aio.client import Client as Nats
    from nats.aio.msg import Msg

logger = logging.getLogger(__name__)

_KEY_PREFIX = "nats:"
_KEY_MAX = 200
_RECONNECT_SECONDS = 2.0
_FETCH_SECONDS = 5.0
_HEADER_MAX = 1000
ERROR_HEADER = "Flowforge-Error"
SUBJECT_HEADER = "Flowforge-Subject"
DELIVERIES_HEADER = "Flowforge-Deliveries"


def message_key(message_id: str | None, stream: str, sequence: int) -> str:
    """The idempotency key of a message: the same for every delivery of it.

    ``Nats-Msg-Id`` when the publisher set one (so a message published again
    with the same id starts nothing new either), else the stream sequence.
    A key that would not fit the 200 characters of an idempotency key, or
    that has other than visible ASCII, is hashed.
    """
    key = _KEY_PREFIX + (f"id:{message_id}" if message_id else f"seq:{stream}:{sequence}")
    if len(key) > _KEY_MAX or any(not 0x21 <= ord(c) <= 0x7E for c in key):
        key = _KEY_PREFIX + "sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key


def retry_delay(deliveries: int, base: float, most: float) -> float:
    """Seconds before delivery ``deliveries + 1`` of a failed message: doubled each time."""
    return float(min(most, base * 2 ** max(0, deliveries - 1)))


def _header(value: str) -> str:
    """``value`` as one header line (NATS headers end at a line break)."""
    return " ".join(value.split())[:_HEADER_MAX]


class NatsTriggers:
    """The consumer of one API process: connects, binds, and handles messages until closed."""

    def __init__(self, state: AppState) -> None:
        self._state = state
        self._settings = state.settings
        self._nats: Nats | None = None
        self.ready = asyncio.Event()
        """Set once the stream and the consumer exist and messages are being fetched."""

    async def run(self) -> None:
        """Consume until cancelled; a lost or refused connection is tried again."""
        while True:
            try:
                await self._consume()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("NATS event triggers: %s; connecting again", exc)
                self.ready.clear()
                await asyncio.sleep(_RECONNECT_SECONDS)
            finally:
                await self._disconnect()

    async def _disconnect(self) -> None:
        if self._nats is not None and not self._nats.is_closed:
            with contextlib.suppress(Exception):
                await self._nats.close()
        self._nats = None

    async def _consume(self) -> None:
        import nats
        from nats.errors import TimeoutError as FetchTimeout
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
        from nats.js.errors import NotFoundError

        settings = self._settings
        self._nats = await nats.connect(
            settings.nats_url,
            name="flowforge-api",
            connect_timeout=_RECONNECT_SECONDS,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
        )
        stream = settings.nats_stream
        js = self._nats.jetstream()
        try:
            await js.stream_info(stream)
        except NotFoundError:
            await js.add_stream(StreamConfig(name=stream, subjects=list(settings.nats_subjects)))
        await js.add_consumer(
            stream,
            ConsumerConfig(
                durable_name=settings.nats_consumer,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=settings.nats_ack_wait,
                # Deliveries are counted here, so the dead letter gets the last error.
                max_deliver=-1,
            ),
        )
        subscription = await js.pull_subscribe_bind(durable=settings.nats_consumer, stream=stream)
        self.ready.set()
        logger.info("NATS event triggers: consuming stream %s", stream)
        while True:
            try:
                messages = await subscription.fetch(settings.nats_batch, timeout=_FETCH_SECONDS)
            except FetchTimeout:
                continue
            await asyncio.gather(*(self._handle(message) for message in messages))

    async def _handle(self, message: Msg) -> None:
        meta = message.metadata
        deliveries = meta.num_delivered
        try:
            payload = json.loads(message.data) if message.data else {}
        except ValueError as exc:
            # No delivery can start a run of it: dead at once.
            await self._dead_letter(message, f"the message is not JSON: {exc}", deliveries)
            return
        headers = message.headers or {}
        key = message_key(headers.get("Nats-Msg-Id"), meta.stream, meta.sequence.stream)
        problem = await self._start(message.subject, payload, key)
        if problem is None:
            await message.ack()
        elif deliveries >= self._settings.nats_max_deliveries:
            await self._dead_letter(message, problem, deliveries)
        else:
            delay = retry_delay(
                deliveries, self._settings.nats_retry_delay, self._settings.nats_retry_max_delay
            )
            logger.info(
                "NATS event on %s not started (delivery %d, again in %gs): %s",
                message.subject,
                deliveries,
                delay,
                problem,
            )
            await message.nak(delay=delay)

    async def _start(self, subject: str, payload: Any, key: str) -> str | None:
        """Start the subject's runs; why some could not start, or None when all did."""
        try:
            client = await self._state.temporal.client()
            async with self._state.sessions() as session:
                accepted, _ = await start_event_runs(
                    client=client,
                    session=session,
                    state=self._state,
                    payload=payload,
                    idempotency_key=key,
                    owner_id=None,
                    subject=subject,
                )
        except ApiError as exc:
            return exc.detail
        except Exception as exc:
            # Temporal or PostgreSQL away: a later delivery may get through.
            return f"{type(exc).__name__}: {exc}"
        if not accepted.skipped:
            return None
        return "; ".join(f"workflow {skip.workflow_id}: {skip.detail}" for skip in accepted.skipped)

    async def _dead_letter(self, message: Msg, problem: str, deliveries: int) -> None:
        assert self._nats is not None
        logger.warning(
            "NATS event on %s dead-lettered after %d deliveries: %s",
            message.subject,
            deliveries,
            problem,
        )
        headers = {
            **(message.headers or {}),
            ERROR_HEADER: _header(problem),
            SUBJECT_HEADER: message.subject,
            DELIVERIES_HEADER: str(deliveries),
        }
        await self._nats.publish(
            self._settings.nats_dead_letter_subject, message.data, headers=headers
        )
        await self._nats.flush()
        await message.ack()


@contextlib.asynccontextmanager
async def nats_triggers(state: AppState) -> AsyncIterator[NatsTriggers | None]:
    """The process's NATS consumer while the API runs; None (and nothing started) when off."""
    if not state.settings.nats_url or not state.settings.nats_triggers:
        yield None
        return
    triggers = NatsTriggers(state)
    task = asyncio.create_task(triggers.run(), name="flowforge-nats-triggers")
    try:
        yield triggers
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
