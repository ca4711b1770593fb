"""Where the FlowForge stack itself listens, resolved once when a worker starts.

An allow-list entry such as ``127.0.0.1/32`` also covers Temporal, PostgreSQL,
the API and the worker's metrics when they run on that host; the policy
refuses the addresses resolved here whatever the allow-list says.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from interpreter.egress.policy import (
    Endpoint,
    IPAddress,
    StackAddress,
    join_host_port,
    parse_endpoint,
)

_LOOPBACK = (ipaddress.IPv4Network("127.0.0.0/8"), ipaddress.IPv6Network("::1/128"))


@dataclass
class Resolved:
    """The endpoints an entry stands for, and what could not be resolved.

    Attributes:
        endpoints: The entry as written (a name stays a name) plus each address
            it resolved to; an unspecified address (``0.0.0.0``) stands for the
            loopback networks and this host's own addresses.
        unresolved: Host names that did not resolve (kept as names).
    """

    endpoints: list[Endpoint] = field(default_factory=list)
    unresolved: list[str] = field(default_factory=list)


def _host_addresses() -> list[IPAddress]:
    # Best effort: a server bound to every interface is reachable on each of them.
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM)
    except OSError:
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _addresses(host: str) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
            if address not in found:
                found.append(address)
    return found


def resolve_endpoints(entries: Iterable[str]) -> Resolved:
    """Parse ``host:port`` (or ``host``: every port) entries and resolve their host names.

    Blocks on the OS resolver: call it once at start, not per request.

    Raises:
        ValueError: an entry is not ``host``, ``host:port``, ``[v6]:port`` or a CIDR.
    """
    resolved = Resolved()
    for entry in entries:
        endpoint = parse_endpoint(entry)
        resolved.endpoints.append(endpoint)
        networks = [] if endpoint.network is None else [endpoint.network]
        if endpoint.host is not None:
            try:
                networks = [ipaddress.ip_network(a) for a in _addresses(endpoint.host)]
            except OSError:
                resolved.unresolved.append(endpoint.host)
        for network in networks:
            if network.num_addresses == 1 and network.network_address.is_unspecified:
                spread = [*_LOOPBACK, *(ipaddress.ip_network(a) for a in _host_addresses())]
            else:
                spread = [network]
            resolved.endpoints += [Endpoint(n, None, endpoint.port) for n in spread]
    return resolved


def resolve_stack(parts: Iterable[tuple[str, str]]) -> tuple[list[StackAddress], list[str]]:
    """The stack's addresses from ``(part, "host:port")`` pairs, and the names that did not resolve.

    Raises:
        ValueError: an entry is malformed (see :func:`resolve_endpoints`).
    """
    found: list[StackAddress] = []
    unresolved: list[str] = []
    for part, entry in parts:
        resolved = resolve_endpoints([entry])
        found += [StackAddress(e, part, entry) for e in resolved.endpoints]
        unresolved += resolved.unresolved
    return found, unresolved


def url_endpoints(url: str, default_port: int) -> list[str]:
    """The ``host:port`` entries of a URL's authority (libpq lists several hosts, comma-separated).

    Returns:
        One entry per host; none for a URL without a host (a unix socket).
    """
    authority = urlsplit(url).netloc.rpartition("@")[2]
    entries: list[str] = []
    for item in authority.split(","):
        host, port = _split_host_port(item.strip())
        if host:
            entries.append(join_host_port(host, port or default_port))
    return entries


def _split_host_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, colon, port = text.rpartition(":")
        if not colon:
            host, port = text, ""
    return host, int(port) if port.isdigit() else None


def labelled(entry: str, default: str) -> tuple[str, str]:
    """``(part, "host:port")`` of ``Part name=host:port``; ``default`` names an unlabelled one."""
    label, equals, target = entry.partition("=")
    if equals and label.strip():
        return label.strip(), target.strip()
    return default, entry.strip()
