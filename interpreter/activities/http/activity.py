"""The ``http`` node: one request through the worker's guarded client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
from temporalio import activity

from interpreter.activities.base import ActivityRequest, node_activity
from interpreter.activities.circuit import CircuitBreakers, guarded
from interpreter.activities.http.config import HttpConfig
from interpreter.activities.http.redirects import send_following
from interpreter.activities.http.request import Outgoing, build_request, redacted
from interpreter.activities.http.response import (
    is_expected,
    parse_body,
    read_capped,
    status_error,
)
from interpreter.activities.secrets import SecretResolver, reveal_secrets
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.node_config import config_error, parse_config
from interpreter.errors import HttpNetworkError

MIB = 1024 * 1024


@dataclass(frozen=True)
class HttpSettings:
    """Worker-wide limits of the ``http`` node.

    Attributes:
        max_response_bytes: Body cap when the node sets none.
        max_response_bytes_limit: The largest cap a node may ask for (worker
            memory; a node's output must also fit a Temporal payload).
        max_redirects: Redirect hops followed per request.
        default_timeout: Seconds per request when neither the node's config nor
            the activity's start-to-close timeout gives one.
    """

    max_response_bytes: int = MIB
    max_response_bytes_limit: int = 10 * MIB
    max_redirects: int = 5
    default_timeout: float = 30.0


class HttpActivity:
    """Holds the worker's pooled client; see :meth:`http`.

    Args:
        client: From :func:`interpreter.activities.build_http_client`.
        settings: Worker-wide limits.
        secrets: Fills ``{{ secrets.NAME }}`` holes; without it a config that
            holds one fails.
        breakers: The shared circuit breakers; without them calls are unguarded.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: HttpSettings | None = None,
        *,
        secrets: SecretResolver | None = None,
        breakers: CircuitBreakers | None = None,
    ) -> None:
        self._client = client
        self._settings = settings or HttpSettings()
        self._secrets = secrets
        self._breakers = breakers

    @activity.defn(name="http")
    @node_activity
    async def http(self, request: ActivityRequest) -> dict[str, Any]:
        """Send the node's request; output ``{status, headers, body}``, secrets masked."""
        revealed = await reveal_secrets(self._secrets, request)
        with revealed.masker.failures():
            output = await self._call(revealed.config, request)
            masked: dict[str, Any] = revealed.masker.value(output)
            return masked

    async def _call(self, rendered: dict[str, Any], request: ActivityRequest) -> dict[str, Any]:
        config = parse_config(HttpConfig, rendered, request.node_id)
        limit = self._body_limit(config, request.node_id)
        timeout = self._timeout(config)
        try:
            outgoing = build_request(
                self._client, config, idempotency_key=request.idempotency_key, timeout=timeout
            )
        except ValueError as exc:
            raise config_error(request.node_id, "config.url", str(exc)) from None
        service = request.circuit_breaker or outgoing.request.url.host
        async with guarded(self._breakers, service):
            try:
                async with asyncio.timeout(timeout):
                    return await self._exchange(outgoing, config, request, limit)
            except (TimeoutError, httpx.TimeoutException):
                reason = f"no complete response within {timeout:g}s"
                raise _network_error(outgoing, reason) from None
            except httpx.HTTPError as exc:
                raise _network_error(outgoing, f"{type(exc).__name__}: {exc}") from None

    async def _exchange(
        self, outgoing: Outgoing, config: HttpConfig, request: ActivityRequest, limit: int
    ) -> dict[str, Any]:
        response = await send_following(
            self._client,
            outgoing.request,
            follow=config.follow_redirects,
            max_redirects=self._settings.max_redirects,
            credentials=outgoing.credential_headers,
        )
        try:
            if not is_expected(response.status_code, config.expect_status):
                raise await status_error(response, request.retry)
            raw = await read_capped(response, limit)
            return {
                "status": response.status_code,
                "headers": dict(response.headers),
                "body": parse_body(raw, response, config.response),
            }
        finally:
            await response.aclose()

    def _body_limit(self, config: HttpConfig, node_id: str) -> int:
        limit = config.max_response_bytes or self._settings.max_response_bytes
        if limit > self._settings.max_response_bytes_limit:
            raise config_error(
                node_id,
                "config.max_response_bytes",
                f"{limit} is over this worker's limit of "
                f"{self._settings.max_response_bytes_limit} bytes",
            )
        return limit

    def _timeout(self, config: HttpConfig) -> float:
        if config.timeout is not None:
            return parse_duration(config.timeout).total_seconds()
        node_timeout = activity.info().start_to_close_timeout
        if node_timeout:
            return node_timeout.total_seconds()
        return self._settings.default_timeout


def _network_error(outgoing: Outgoing, reason: str) -> HttpNetworkError:
    request = outgoing.request
    url = redacted(request.url)
    return HttpNetworkError(f"{request.method} {url}: {reason}", details={"url": url})
