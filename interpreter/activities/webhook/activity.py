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

from interpreter.activities.base import ActivityRequest, node_activity
from interpreter.activities.circuit import CircuitBreakers, guarded
from interpreter.activities.http.request import redacted
from interpreter.activities.http.response import is_expected, read_capped, status_error
from interpreter.activities.masking import Masker
from interpreter.activities.secrets import SecretResolver, reveal_secrets
from interpreter.activities.webhook.config import WebhookConfig
from interpreter.activities.webhook.record import (
    DeliveryRecord,
    DeliveryRecorder,
    finished,
    record_attempt,
)
from interpreter.activities.webhook.request import build_request, delivery_id
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.node_config import config_error, parse_config
from interpreter.errors import HttpNetworkError, NodeFailure

__all__ = ["DeliveryRecord", "DeliveryRecorder", "WebhookActivity", "WebhookSettings"]

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


class WebhookActivity:
    """Holds the worker's pooled client and recorder; see :meth:`webhook`.

    Args:
        client: From :func:`interpreter.activities.build_http_client`.
        settings: Worker-wide settings.
        recorder: Where attempts are recorded; nowhere if None.
        secrets: Fills ``{{ secrets.NAME }}`` holes; without it a config that
            holds one fails.
        breakers: The shared circuit breakers; without them calls are unguarded.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: WebhookSettings | None = None,
        *,
        recorder: DeliveryRecorder | None = None,
        secrets: SecretResolver | None = None,
        breakers: CircuitBreakers | None = None,
    ) -> None:
        self._client = client
        self._settings = settings or WebhookSettings()
        self._recorder = recorder
        self._secrets = secrets
        self._breakers = breakers

    @activity.defn(name="webhook")
    @node_activity
    async def webhook(self, request: ActivityRequest) -> dict[str, Any]:
        """POST the payload; output ``{status, delivery_id}``."""
        revealed = await reveal_secrets(self._secrets, request)
        with revealed.masker.failures():
            return await self._deliver(revealed.config, revealed.masker, request)

    async def _deliver(
        self, rendered: dict[str, Any], masker: Masker, request: ActivityRequest
    ) -> dict[str, Any]:
        config = parse_config(WebhookConfig, rendered, request.node_id)
        delivery = delivery_id(request.run_id, request.node_path)
        timeout = self._timeout(config)
        try:
            outgoing = build_request(
                self._client,
                config,
                delivery=delivery,
                idempotency_key=request.idempotency_key,
                timeout=timeout,
            )
        except ValueError as exc:
            raise config_error(request.node_id, "config.url", str(exc)) from None
        record = DeliveryRecord(
            delivery_id=delivery,
            run_id=request.run_id,
            node_id=request.node_id,
            node_path=request.node_path,
            attempt=activity.info().attempt,
            url=masker.text(redacted(outgoing.url)),
            latency_ms=0.0,
            at=datetime.now(UTC),
        )
        started = time.monotonic()
        service = request.circuit_breaker or outgoing.url.host
        try:
            # Masked here already: the record must not keep a secret either.
            with masker.failures():
                async with guarded(self._breakers, service):
                    status = await self._send(outgoing, config, request, timeout)
        except NodeFailure as failure:
            await self._record(finished(record, started, failure=failure))
            raise
        except asyncio.CancelledError:
            await asyncio.shield(self._record(finished(record, started, cancelled=True)))
            raise
        await self._record(finished(record, started, status=status))
        return {"status": status, "delivery_id": delivery}

    async def _record(self, record: DeliveryRecord) -> None:
        if self._recorder is not None:
            await record_attempt(self._recorder, record, self._settings.record_timeout)

    async def _send(
        self,
        outgoing: httpx.Request,
        config: WebhookConfig,
        request: ActivityRequest,
        seconds: float,
    ) -> int:
        try:
            async with asyncio.timeout(seconds):
                response = await self._client.send(outgoing, stream=True, follow_redirects=False)
                try:
                    if not is_expected(response.status_code, config.expect_status):
                        raise await status_error(response, request.retry)
                    await read_capped(response, _DRAINED_BYTES, truncate=True)
                    return response.status_code
                finally:
                    await response.aclose()
        except (TimeoutError, httpx.TimeoutException):
            raise _network_error(outgoing, f"no response within {seconds:g}s") from None
        except httpx.HTTPError as exc:
            raise _network_error(outgoing, f"{type(exc).__name__}: {exc}") from None

    def _timeout(self, config: WebhookConfig) -> float:
        if config.timeout is not None:
            return parse_duration(config.timeout).total_seconds()
        node_timeout = activity.info().start_to_close_timeout
        if node_timeout:
            return node_timeout.total_seconds()
        return self._settings.default_timeout


def _network_error(outgoing: httpx.Request, reason: str) -> HttpNetworkError:
    url = redacted(outgoing.url)
    return HttpNetworkError(f"POST {url}: {reason}", details={"url": url})
