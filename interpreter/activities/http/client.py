"""The one pooled, guarded HTTP client a worker shares between its activities."""

from __future__ import annotations

import ssl

import httpx

from interpreter.egress import EgressPolicy, GuardedTransport, Resolver, system_resolve


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
    """A client whose every connection passes ``policy``.

    Environment proxies are ignored (``trust_env=False``): a proxy would make
    the guard check the proxy instead of the destination. Redirects are not
    followed by the client; the ``http`` activity follows them hop by hop.

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
