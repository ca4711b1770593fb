"""The API's Temporal client, connected at first use.

Connecting lazily lets the API start, and ``/readyz`` say why it is not
ready, while Temporal is down.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from app.settings import Settings
from interpreter import tracing
from interpreter.contract.client import connect

_UNREACHABLE = frozenset({RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED})


class TemporalUnavailable(Exception):
    """Temporal cannot be reached; the API answers 503 with this message."""


def is_unreachable(error: RPCError) -> bool:
    """Whether a failed call means Temporal is down rather than the call being wrong."""
    return error.status in _UNREACHABLE


class TemporalConnector:
    """Owns the API's one Temporal client (clients are meant to be shared).

    Raises:
        ValueError: payload encryption has no key in prod (see ``CommonSettings.data_converter``).
    """

    def __init__(self, settings: Settings) -> None:
        self.address = settings.temporal_address
        self.namespace = settings.temporal_namespace
        self.rpc_timeout = timedelta(seconds=settings.temporal_rpc_timeout)
        self.query_timeout = timedelta(seconds=settings.status_query_timeout)
        self._connect_timeout = settings.temporal_connect_timeout
        self.converter = settings.data_converter()
        self.tracing = settings.tracing
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        """The connected client.

        Raises:
            TemporalUnavailable: Temporal did not answer in time.
        """
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await self._connect()
        return self._client

    async def _connect(self) -> Client:
        # While tracing, every start, signal and query joins the trace of its request.
        interceptors = [tracing.temporal_interceptor()] if self.tracing else []
        try:
            return await asyncio.wait_for(
                connect(
                    self.address,
                    self.namespace,
                    converter=self.converter,
                    interceptors=interceptors,
                ),
                timeout=self._connect_timeout,
            )
        except (RuntimeError, OSError, TimeoutError, RPCError) as exc:
            raise TemporalUnavailable(
                f"Temporal at {self.address} is unreachable ({exc}); "
                "check TEMPORAL_ADDRESS and that the server is running"
            ) from exc
