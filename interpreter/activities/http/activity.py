"""The ``http`` node: one request through the worker's guarded client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio import activity

from interpreter.activities.base import ActivityRequest, node_activity
from interpreter.activities.http.config import HttpConfig
from interpreter.activities.http.redirects import send_following
from interpreter.activities.http.request import Outgoing, build_request
from interpreter.activities.http.response import check_status, parse_body, read_capped
from interpreter.activities.outbound import OutboundActivity, building
from interpreter.dsl.node_config import config_error, parse_config

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


class HttpActivity(OutboundActivity[HttpSettings]):
    """The activity of ``http`` nodes (see :meth:`http`).

    It takes :class:`~interpreter.activities.outbound.OutboundActivity`'s arguments.
    """

    settings_type = HttpSettings

    @activity.defn(name="http")
    @node_activity
    async def http(self, request: ActivityRequest) -> dict[str, Any]:
        """Send the node's request; output ``{status, headers, body}``, secrets masked."""
        async with self.revealed(request) as revealed:
            config = parse_config(HttpConfig, revealed.config, request.node_id)
            limit = self._body_limit(config, request)
            timeout = self.timeout(config.timeout)
            with building(request.node_id):
                outgoing = build_request(
                    self._client,
                    config,
                    idempotency_key=request.idempotency_key,
                    timeout=timeout,
                    secret_fields=revealed.secret_fields,
                )
            async with self.calling(request, outgoing.request, timeout):
                output = await self._exchange(outgoing, config, limit)
            # An upstream may echo a credential back in a header or the body.
            masked: dict[str, Any] = revealed.masker.value(output)
            return masked

    async def _exchange(self, outgoing: Outgoing, config: HttpConfig, limit: int) -> dict[str, Any]:
        response = await send_following(
            self._client,
            outgoing.request,
            follow=config.follow_redirects,
            max_redirects=self._settings.max_redirects,
            credentials=outgoing.credential_headers,
            secret_body=outgoing.secret_body,
        )
        try:
            await check_status(response, config.expect_status)
            raw = await read_capped(response, limit)
            return {
                "status": response.status_code,
                "headers": dict(response.headers),
                "body": parse_body(raw, response, config.response),
            }
        finally:
            await response.aclose()

    def _body_limit(self, config: HttpConfig, request: ActivityRequest) -> int:
        """The body cap: the node's, else the worker's default, never over what can be stored.

        A default over the run's payload limit is lowered to it; a cap the
        node sets above either limit is a config error (the API refuses it at
        save already when it is a literal).
        """
        worker_limit = self._settings.max_response_bytes_limit
        stored = request.max_output_bytes
        if config.max_response_bytes is None:
            return min(self._settings.max_response_bytes, worker_limit, stored)
        limit = config.max_response_bytes
        if limit > worker_limit:
            problem = f"{limit} is over this worker's limit of {worker_limit} bytes"
        elif limit > stored:
            problem = (
                f"{limit} is over the {stored} bytes a node's result may hold "
                "(FLOWFORGE_RUN_MAX_PAYLOAD_BYTES)"
            )
        else:
            return limit
        raise config_error(request.node_id, "config.max_response_bytes", problem)
