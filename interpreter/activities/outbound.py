"""Calling another service from an activity: what the ``http`` and ``webhook`` nodes share.

Both are an :class:`OutboundActivity`, which holds the worker's one pooled client
(:func:`build_http_client`, behind the egress guard), its secret resolver and
its circuit breakers, and gives each attempt:

- :meth:`~OutboundActivity.revealed`: the config with its ``{{ secrets.NAME }}``
  holes filled inside the activity, and every error leaving it masked;
- :meth:`~OutboundActivity.timeout`: the attempt's deadline in seconds;
- :func:`building`: a request the config cannot make is a ``ConfigError``;
- :meth:`~OutboundActivity.calling`: the exchange under the service's circuit
  breaker, within the deadline, its transport failures as ``HttpNetworkError``.

What a node sends and how it reads the answer stays in its own package; both
check statuses with :func:`interpreter.activities.http.response.check_status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import re
import ssl
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Generic, Protocol, TypeVar

import httpx
from temporalio import activity

from interpreter.activities.base import ActivityRequest, verified_owner
from interpreter.activities.circuit import CircuitBreakers, breaker_key, guarded
from interpreter.activities.secrets import Revealed, SecretResolver, reveal_secrets
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.node_config import config_error
from interpreter.egress import (
    EgressPolicy,
    GuardedTransport,
    Resolver,
    canonical_ipv4_url,
    check_scheme,
    system_resolve,
)
from interpreter.errors import HttpNetworkError, Unauthorized
from interpreter.run_proof import RunKeys

_HOST = re.compile(r"^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$", re.IGNORECASE)


class OutboundSettings(Protocol):
    """What every outbound node's worker-wide settings hold."""

    @property
    def default_timeout(self) -> float:
        """Seconds per attempt when neither the node's config nor the activity sets a timeout."""
        ...


SettingsT = TypeVar("SettingsT", bound=OutboundSettings)


class OutboundActivity(Generic[SettingsT]):
    """Base of the activities that call another service.

    Args:
        client: From :func:`build_http_client`.
        settings: Worker-wide settings; ``settings_type``'s defaults if None.
        secrets: Fills ``{{ secrets.NAME }}`` holes; without it a config that
            holds one fails.
        breakers: The shared circuit breakers; without them calls are unguarded.
        keys: The run signing keys, which check that the API started a run
            before a node acts for its owner; without them no node may.
    """

    settings_type: Callable[[], SettingsT]
    """The subclass's settings class."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: SettingsT | None = None,
        *,
        secrets: SecretResolver | None = None,
        breakers: CircuitBreakers | None = None,
        keys: RunKeys | None = None,
    ) -> None:
        self._client = client
        self._settings = settings if settings is not None else self.settings_type()
        self._secrets = secrets
        self._breakers = breakers
        self._keys = keys

    def verified_owner(self, request: ActivityRequest) -> str:
        """The owner this node may act for, on its run's proof (owner-scoped state uses only it).

        Raises:
            Unauthorized: the run has no valid proof that the API started it.
        """
        return verified_owner(self._keys, request)

    def breaker_owner(self, request: ActivityRequest) -> str:
        """Whose circuit breakers the call counts on: the proven owner's, else nobody's.

        A run without a valid proof (started straight on Temporal) may still call
        out if it reads no secret, but it counts on the breakers of no owner
        (``""``, which only admins see), never on those of the owner it names.
        """
        try:
            return self.verified_owner(request)
        except Unauthorized:
            return ""

    @contextlib.asynccontextmanager
    async def revealed(self, request: ActivityRequest) -> AsyncIterator[Revealed]:
        """The request's config with the run owner's secrets filled in.

        Whatever the block raises leaves with every secret value masked; what
        it returns, it masks itself with the yielded ``masker``.

        Raises:
            ConfigError: naming the node, when a secret cannot be read.
            Unauthorized: the config reads a secret and the run has no valid proof.
        """
        revealed = await reveal_secrets(self._secrets, request, self._keys)
        with revealed.masker.failures():
            yield revealed

    def timeout(self, configured: str | None) -> float:
        """Seconds one attempt may take.

        The node config's ``timeout`` if set, else the activity's
        start-to-close timeout, else the worker's default.
        """
        if configured is not None:
            return parse_duration(configured).total_seconds()
        node_timeout = activity.info().start_to_close_timeout
        if node_timeout:
            return node_timeout.total_seconds()
        return self._settings.default_timeout

    @contextlib.asynccontextmanager
    async def calling(
        self, request: ActivityRequest, outgoing: httpx.Request, seconds: float
    ) -> AsyncIterator[None]:
        """Run the block as one call of ``outgoing``'s service.

        The breaker is the run owner's: the node's ``circuit_breaker``, else the
        owner's implicit one of ``scheme://host:port`` (``shared:NAME`` names an
        admin-defined shared one; see :func:`~interpreter.activities.circuit.breaker_key`).
        It sees how the block ended (see :func:`~interpreter.activities.circuit.guarded`).

        Raises:
            CircuitOpen: before the block runs, when the breaker refuses the call.
            ConfigError: the node names a shared breaker no admin defined.
            HttpNetworkError: no complete response within ``seconds``, or the
                connection failed.
        """
        breaker = breaker_key(self.breaker_owner(request), request.circuit_breaker, outgoing.url)
        async with guarded(self._breakers, breaker, request.node_id):
            try:
                async with asyncio.timeout(seconds):
                    yield
            except (TimeoutError, httpx.TimeoutException):
                reason = f"no complete response within {seconds:g}s"
                raise _network_error(outgoing, reason) from None
            except httpx.HTTPError as exc:
                raise _network_error(outgoing, f"{type(exc).__name__}: {exc}") from None


@contextlib.contextmanager
def building(node_id: str) -> Iterator[None]:
    """Run the block that builds a node's request from its config.

    Raises:
        ConfigError: on ``config.url``, naming the node, when the block raises
            ``ValueError`` (a malformed URL, or a value a request cannot carry).
    """
    try:
        yield
    except ValueError as exc:
        raise config_error(node_id, "config.url", str(exc)) from None


def _network_error(outgoing: httpx.Request, reason: str) -> HttpNetworkError:
    url = redacted(outgoing.url)
    return HttpNetworkError(f"{outgoing.method} {url}: {reason}", details={"url": url})


def parse_url(text: str) -> httpx.URL:
    """Parse an absolute http(s) URL.

    Raises:
        ValueError: the URL is malformed (message says why).
        EgressDenied: the scheme is not http or https.
    """
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        canonical = canonical_ipv4_url(text)
        if canonical is None:
            raise ValueError(str(exc)) from None
        try:
            url = httpx.URL(canonical)
        except httpx.InvalidURL as again:
            raise ValueError(str(again)) from None
    if url.scheme:
        check_scheme(url.scheme)
    if not url.scheme or not url.host:
        raise ValueError(f"{text!r} is not an absolute URL (http://host/...)")
    host = url.raw_host.decode("ascii")
    # httpx percent-encodes junk into the host; refuse it here rather than send
    # a DNS query for a name that cannot exist.
    if not (_HOST.match(host) or _is_ip(host)):
        raise ValueError(f"{url.host!r} is not a valid host name")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError(f"port {url.port} is out of range")
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def redacted(url: httpx.URL) -> str:
    """``url`` without credentials or query, which may hold secrets; for messages."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def add_idempotency_key(headers: httpx.Headers, key: str | None) -> None:
    """Send the node's ``Idempotency-Key``, unless its config sets its own."""
    if key is not None and "idempotency-key" not in headers:
        headers["Idempotency-Key"] = key


def build_http_client(
    policy: EgressPolicy,
    *,
    max_connections: int,
    max_keepalive_connections: int | None = None,
    keepalive_expiry: float = 5.0,
    user_agent: str = "FlowForge",
    verify: ssl.SSLContext | bool = True,
    resolver: Resolver = system_resolve,
) -> httpx.AsyncClient:
    """The one pooled client a worker shares between its outbound activities.

    Every connection passes ``policy``. Environment proxies are ignored
    (``trust_env=False``): a proxy would make the guard check the proxy
    instead of the destination. Redirects are not followed by the client; the
    ``http`` activity follows them hop by hop.

    Args:
        policy: What may be reached.
        max_connections: Pool size across all hosts.
        max_keepalive_connections: Idle connections kept; ``max_connections`` if None.
        keepalive_expiry: Seconds an idle connection is kept.
        user_agent: Sent unless a node sets its own ``User-Agent``.
        verify: TLS verification: True, or a context with extra trusted CAs.
        resolver: Name resolution; the OS resolver unless a test supplies one.
    """
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_keepalive_connections,
        keepalive_expiry=keepalive_expiry,
    )
    transport = GuardedTransport(policy, resolver=resolver, verify=verify, limits=limits)
    return httpx.AsyncClient(
        transport=transport,
        trust_env=False,
        follow_redirects=False,
        headers={"User-Agent": user_agent},
    )
