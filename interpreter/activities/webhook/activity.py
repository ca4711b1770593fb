"""The ``webhook`` node: a signed JSON POST whose every attempt is recorded.

It shares the ``http`` node's guarded client (the SSRF guard applies), its
status rules (``retry.retry_on_status`` is retried, other unexpected statuses
are not) and its ``Retry-After`` handling. Each attempt, delivered or not, is
handed to a :class:`DeliveryRecorder` (the worker's keeps them in PostgreSQL);
a recorder that fails or hangs is logged and never fails the delivery.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from temporalio import activity

from interpreter.activities.base import ActivityRequest, attempt_of, execution_key, node_activity
from interpreter.activities.circuit import CircuitBreakers
from interpreter.activities.http.response import check_status, read_capped
from interpreter.activities.outbound import OutboundActivity, building, redacted
from interpreter.activities.secrets import SecretResolver
from interpreter.activities.webhook.config import WebhookConfig
from interpreter.activities.webhook.record import (
    DeliveryRecord,
    DeliveryRecorder,
    finished,
    record_attempt,
)
from interpreter.activities.webhook.request import build_request
from interpreter.dsl.node_config import parse_config
from interpreter.errors import NodeFailure
from interpreter.run_proof import RunKeys

_DRAINED_BYTES = 65_536
"""A delivered response's body is read up to this much, so its connection can be reused."""


@dataclass(frozen=True)
class WebhookSettings:
    """Worker-wide settings of the ``webhook`` node.

    Attributes:
        default_timeout: Seconds per attempt when neither the node's config nor
            the activity's start-to-close timeout gives one.
        record_timeout: Seconds the recorder gets per attempt before the
            delivery goes on without it.
    """

    default_timeout: float = 30.0
    record_timeout: float = 5.0


class WebhookActivity(OutboundActivity[WebhookSettings]):
    """See :meth:`webhook`.

    Args:
        recorder: Where attempts are recorded; nowhere if None. The other
            arguments are :class:`~interpreter.activities.outbound.OutboundActivity`'s.
    """

    settings_type = WebhookSettings

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: WebhookSettings | None = None,
        *,
        recorder: DeliveryRecorder | None = None,
        secrets: SecretResolver | None = None,
        breakers: CircuitBreakers | None = None,
        keys: RunKeys | None = None,
    ) -> None:
        super().__init__(client, settings, secrets=secrets, breakers=breakers, keys=keys)
        self._recorder = recorder

    @activity.defn(name="webhook")
    @node_activity
    async def webhook(self, request: ActivityRequest) -> dict[str, Any]:
        """POST the payload; output ``{status, delivery_id}``."""
        async with self.revealed(request) as revealed:
            config = parse_config(WebhookConfig, revealed.config, request.node_id)
            delivery = execution_key(request.run_id, request.node_path)
            timeout = self.timeout(config.timeout)
            with building(request.node_id):
                outgoing = build_request(
                    self._client,
                    config,
                    delivery=delivery,
                    idempotency_key=request.idempotency_key,
                    timeout=timeout,
                    now=time.time(),
                )
            record = DeliveryRecord(
                delivery_id=delivery,
                run_id=request.run_id,
                node_id=request.node_id,
                node_path=request.node_path,
                attempt=attempt_of(request),
                url=revealed.masker.text(redacted(outgoing.url)),
                latency_ms=0.0,
                at=datetime.now(UTC),
            )
            started = time.monotonic()
            try:
                # Masked here already: the record must not keep a secret either.
                with revealed.masker.failures():
                    async with self.calling(request, outgoing, timeout):
                        status = await self._send(outgoing, config)
            except NodeFailure as failure:
                await self._record(finished(record, started, failure=failure))
                raise
            except asyncio.CancelledError:
                await asyncio.shield(self._record(finished(record, started, cancelled=True)))
                raise
            await self._record(finished(record, started, status=status))
            return {"status": status, "delivery_id": delivery}

    async def _send(self, outgoing: httpx.Request, config: WebhookConfig) -> int:
        response = await self._client.send(outgoing, stream=True, follow_redirects=False)
        try:
            await check_status(response, config.expect_status)
            await read_capped(response, _DRAINED_BYTES, truncate=True)
            return response.status_code
        finally:
            await response.aclose()

    async def _record(self, record: DeliveryRecord) -> None:
        if self._recorder is not None:
            await record_attempt(self._recorder, record, self._settings.record_timeout)
