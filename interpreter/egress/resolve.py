"""Name resolution for the SSRF guard: the OS resolver, and numeric IPv4 spellings."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

from interpreter.egress.policy import IPAddress

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
"""Resolves ``(host, port)`` to the addresses a connection may use, in order."""

_NUMERIC = frozenset("0123456789abcdefxABCDEFX.")


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """Resolve with the event loop's ``getaddrinfo`` (the OS resolver).

    IP literals, including decimal, octal, hex and short IPv4 spellings, are
    parsed by the OS exactly as a connect would, without a DNS query.

    Raises:
        OSError: the name does not resolve.
    """
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The address a numeric IPv4 spelling denotes to the OS (``0177.0.0.1``, ``0x7f.1``)."""
    if not host or not set(host) <= _NUMERIC:
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def canonical_ipv4_url(url: str) -> str | None:
    """``url`` with a numeric IPv4 host spelled in dotted decimal, or None if it has none.

    httpx refuses spellings with leading zeros that the OS resolver reads as
    octal; rewriting them to the address the OS would use lets the guard judge
    that address instead of the request failing on a parse error.
    """
    parts = urlsplit(url)
    address = numeric_ipv4(parts.hostname or "")
    if address is None:
        return None
    userinfo, _, _ = parts.netloc.rpartition("@")
    netloc = (f"{userinfo}@" if userinfo else "") + str(address)
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))
