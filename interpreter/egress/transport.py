"""An httpx transport whose every connection passes the egress policy.

The check sits in the network backend, the one place every connection is
opened (first request, each redirect hop, each new pooled connection). It
resolves the host once, checks every address, and connects to a checked
address itself, so a second DNS answer can never swap in another target
(DNS rebinding). httpcore still sends the original host name as the Host
header and as TLS SNI, and verifies the certificate against it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable

import anyio
import httpcore
import httpx

from interpreter.egress.policy import EgressPolicy, check_scheme
from interpreter.egress.resolve import Resolver, canonical_ipv4_url, system_resolve

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check, then connect to the checked address."""

    def __init__(
        self,
        policy: EgressPolicy,
        resolver: Resolver = system_resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ) -> None:
        self._policy = policy
        self._resolve = resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve ``host``, check every address and ``port`` against the policy, connect to one."""
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from None
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolved to no address")
        # The port counts: a stack service or a port-scoped allow entry is one port of a host.
        self._policy.check(host, addresses, port)
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refuse: a unix socket is never an egress destination."""
        raise httpcore.ConnectError("unix sockets are not an allowed egress destination")

    async def sleep(self, seconds: float) -> None:
        """Sleep as the wrapped backend does."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` with the egress guard on every connection.

    Args:
        policy: What may be reached.
        resolver: Name resolution; the OS resolver unless a test supplies one.
        verify: TLS verification (True, or a context with extra trusted CAs).
        limits: Connection pool limits; httpx's defaults if None.
    """

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        resolver: Resolver = system_resolve,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
    ) -> None:
        limits = limits or httpx.Limits()
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=False)
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # httpx has no public hook for the network backend, so the pool it just
        # built is replaced by an identical one that connects through the guard.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolver),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through checked connections; a redirect's target is checked too."""
        check_scheme(request.url.scheme)
        response = await super().handle_async_request(request)
        location = response.headers.get("location")
        if location is not None:
            response.headers["location"] = _parseable_location(location)
        return response


def _parseable_location(location: str) -> str:
    # httpx parses every Location it receives and fails the whole exchange on
    # IPv4 spellings with leading zeros, which the OS reads as octal. Spelling
    # the address as the OS would lets the redirect reach the guard and be
    # judged like any other destination.
    try:
        httpx.URL(location)
        return location
    except httpx.InvalidURL:
        pass
    try:
        return canonical_ipv4_url(location) or location
    except ValueError:
        return location
