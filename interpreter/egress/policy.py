"""Which destinations outbound HTTP may reach.

Only globally routable addresses are allowed by default: anything that can
reach the worker's own host, its private network or a cloud metadata service
is refused unless an operator allow-lists it (``FLOWFORGE_EGRESS_ALLOW``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from interpreter.errors import EgressDenied

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# Checked in order; the first match names the reason. Anything not listed that
# Python still considers non-global is refused as "reserved".
_REFUSED: tuple[tuple[IPNetwork, str], ...] = (
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("100.64.0.0/10"), "carrier-grade NAT (shared address space)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("255.255.255.255/32"), "broadcast"),
    (_V4("240.0.0.0/4"), "reserved"),
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fc00::/7"), "unique local (ULA)"),
    (_V6("ff00::/8"), "multicast"),
)

# IPv6 forms that carry an IPv4 address which is what the packets finally reach.
_MAPPED = _V6("::ffff:0:0/96")
_TRANSLATED = _V6("::ffff:0:0:0/96")
_COMPATIBLE = _V6("::/96")
_SIX_TO_FOUR = _V6("2002::/16")
_NAT64 = _V6("64:ff9b::/96")
_NAT64_LOCAL = _V6("64:ff9b:1::/48")

# RFC 6052: where a prefix of each length puts the IPv4 address (bit ranges,
# counted from the top), and where its suffix, which must be zero, starts.
# Bits 64-71 are always zero below /96.
_RFC6052: tuple[tuple[tuple[tuple[int, int], ...], int], ...] = (
    (((48, 16), (72, 16)), 88),
    (((56, 8), (72, 24)), 96),
    (((72, 32),), 104),
)

_COMPATIBLE_REASON = "an IPv4-compatible IPv6 address (deprecated, not routable)"

_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")


def _bits(value: int, start: int, length: int) -> int:
    return (value >> (128 - start - length)) & ((1 << length) - 1)


def carried_ipv4(address: IPAddress) -> tuple[ipaddress.IPv4Address, ...]:
    """Every IPv4 address an IPv6 address may stand for, the likeliest reading last.

    IPv4-mapped, IPv4-translated, IPv4-compatible, 6to4 and NAT64 addresses
    carry one. A local-use NAT64 address (``64:ff9b:1::/48``) may be read with
    any RFC 6052 prefix length the translator uses; each well-formed reading is
    returned, so the guard can refuse the address if any of them is refused.
    """
    if isinstance(address, ipaddress.IPv4Address):
        return ()
    value = int(address)
    low = ipaddress.IPv4Address(value & 0xFFFFFFFF)
    if address in _MAPPED:
        return (low,)
    if address in _TRANSLATED:
        return (low,)
    if address in _SIX_TO_FOUR:
        sixtofour = address.sixtofour
        return (sixtofour,) if sixtofour is not None else ()
    if address in _NAT64 or (address in _COMPATIBLE and value > 1):
        return (low,)
    if address in _NAT64_LOCAL:
        readings: list[ipaddress.IPv4Address] = []
        for pieces, suffix in _RFC6052:
            if _bits(value, 64, 8) or _bits(value, suffix, 128 - suffix):
                continue
            inner = 0
            for start, length in pieces:
                inner = (inner << length) | _bits(value, start, length)
            readings.append(ipaddress.IPv4Address(inner))
        return (*readings, low)
    return ()


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, translated, compatible, 6to4, NAT64).

    Of a local-use NAT64 address with several readings (see :func:`carried_ipv4`),
    the first one that is refused, else the likeliest.
    """
    readings = carried_ipv4(address)
    if not readings:
        return None
    return next((inner for inner in readings if refusal_reason(inner)), readings[-1])


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be reached by default, or None if it is global.

    An IPv6 address that carries an IPv4 address is judged by that address.

    Args:
        address: A resolved address (an IPv6 zone such as ``%eth0`` does not matter).
    """
    readings = carried_ipv4(address)
    if readings:
        for inner in readings:
            inner_reason = refusal_reason(inner)
            if inner_reason is not None:
                return f"an IPv6 form of {inner}, which is {inner_reason}"
        if address in _COMPATIBLE:
            return _COMPATIBLE_REASON
        return None
    for network, reason in _REFUSED:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global:
        return "reserved (not globally routable)"
    return None


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _in(address: IPAddress, network: IPNetwork) -> bool:
    return address.version == network.version and address in network


@dataclass(frozen=True)
class Endpoint:
    """What one allow-list or stack entry names: addresses or a host name, on a port or all.

    Attributes:
        network: The addresses (a single address is a /32 or /128), or None for a name.
        host: The exact host name (lower case, no final dot), or None for addresses.
        port: The one port, or None for every port.
    """

    network: IPNetwork | None
    host: str | None
    port: int | None

    def names(self, host: str, address: IPAddress) -> bool:
        """True if a connection to ``host`` at ``address`` is one this entry names (any port)."""
        if self.host is not None:
            return self.host == _normalise_host(host)
        assert self.network is not None
        return _in(address, self.network)

    def __str__(self) -> str:
        if self.host is not None:
            target = self.host
        else:
            assert self.network is not None
            single = self.network.num_addresses == 1
            target = str(self.network.network_address) if single else str(self.network)
            if self.network.version == 6 and self.port is not None:
                target = f"[{target}]"
        return target if self.port is None else f"{target}:{self.port}"


def parse_endpoint(entry: str) -> Endpoint:
    """An entry such as ``10.0.0.0/8``, ``127.0.0.1:9001``, ``[::1]:8080`` or ``api.internal:443``.

    An IPv6 address or network with a port is written in brackets; without a
    port the entry covers every port.

    Raises:
        ValueError: the entry is neither a CIDR, an address nor a host name, or
            its port is not 1-65535.
    """
    text = entry.strip()
    port: int | None = None
    target = text
    if text.startswith("["):
        inside, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
            raise ValueError(f"egress entry {entry!r}: write an IPv6 address as [address]:port")
        target, port = inside, int(rest[1:]) if rest else None
    else:
        head, colon, tail = text.rpartition(":")
        if colon and tail.isdigit() and ":" not in head:
            target, port = head, int(tail)
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"egress entry {entry!r}: port {port} is not 1-65535")
    try:
        return Endpoint(ipaddress.ip_network(target.strip(), strict=False), None, port)
    except ValueError:
        pass
    host = _normalise_host(target)
    if text.startswith("[") or not _HOSTNAME.match(host):
        raise ValueError(f"egress entry {entry!r} is neither a CIDR, an IP address nor a host name")
    return Endpoint(None, host, port)


@dataclass(frozen=True)
class StackAddress:
    """Where a part of the FlowForge stack listens: never a destination of a node.

    Attributes:
        endpoint: Its address (or name) and port, or every port of the host.
        part: What listens there, for the refusal, e.g. ``PostgreSQL``.
        entry: The ``host:port`` it was configured as.
    """

    endpoint: Endpoint
    part: str
    entry: str


class EgressPolicy:
    """The allow-list that overrides the default refusals, and the stack it never overrides.

    Args:
        allow: Entries (see :func:`parse_endpoint`) that are CIDRs (``10.1.0.0/16``),
            single addresses (``127.0.0.1``) or exact host names (``api.internal``),
            each optionally on one port (``127.0.0.1:9001``, ``[::1]:8080``). A host
            name entry allows whatever that name resolves to; sub-domains are not
            included.
        stack: Where the FlowForge stack itself listens (resolved at start):
            refused even when ``allow`` covers it.
        allow_stack: Stack addresses an operator lets through on purpose (then
            judged like any other destination).

    Raises:
        ValueError: an entry is neither a CIDR, an address nor a host name.
    """

    def __init__(
        self,
        allow: Iterable[str] = (),
        *,
        stack: Iterable[StackAddress] = (),
        allow_stack: Iterable[Endpoint] = (),
    ) -> None:
        entries = [parse_endpoint(entry) for entry in allow]
        self.networks: list[IPNetwork] = [
            e.network for e in entries if e.network is not None and e.port is None
        ]
        self.hosts: set[str] = {e.host for e in entries if e.host is not None and e.port is None}
        self.scoped: list[Endpoint] = [e for e in entries if e.port is not None]
        self.stack: list[StackAddress] = list(stack)
        self.allow_stack: list[Endpoint] = list(allow_stack)

    def _covered(self, address: IPAddress, port: int | None) -> bool:
        if any(_in(address, network) for network in self.networks):
            return True
        return any(
            e.network is not None and e.port == port and _in(address, e.network)
            for e in self.scoped
        )

    def _names_host(self, host: str, port: int | None) -> bool:
        name = _normalise_host(host)
        if name in self.hosts:
            return True
        return any(e.host == name and e.port == port for e in self.scoped)

    def allows_address(self, address: IPAddress, port: int | None = None) -> bool:
        """True if ``address`` (or every IPv4 address it carries) is allow-listed on ``port``.

        Args:
            address: A resolved address.
            port: The port to be connected; None matches only entries without a port.
        """
        if self._covered(address, port):
            return True
        readings = carried_ipv4(address)
        return bool(readings) and all(self._covered(inner, port) for inner in readings)

    def _default_refusal(self, address: IPAddress, port: int | None) -> str | None:
        if self._covered(address, port):
            return None
        readings = carried_ipv4(address)
        if not readings:
            return refusal_reason(address)
        uncovered = [inner for inner in readings if not self._covered(inner, port)]
        for inner in uncovered:
            reason = refusal_reason(inner)
            if reason is not None:
                return f"an IPv6 form of {inner}, which is {reason}"
        return _COMPATIBLE_REASON if uncovered and address in _COMPATIBLE else None

    def stack_part(
        self, host: str, address: IPAddress, port: int | None
    ) -> tuple[StackAddress, IPAddress] | None:
        """The part of the stack a connection to ``host`` at ``address`` would reach, if any.

        An IPv6 form of a stack address is that address; an unknown port (None)
        is taken to be the stack's.

        Returns:
            The stack address and the address it was matched on, or None.
        """
        destinations = [address, *carried_ipv4(address)]
        for listed in self.stack:
            wanted = listed.endpoint.port
            if wanted is not None and port is not None and wanted != port:
                continue
            hit = next((d for d in destinations if listed.endpoint.names(host, d)), None)
            if hit is None:
                continue
            if any(
                (e.port is None or e.port == port) and any(e.names(host, d) for d in destinations)
                for e in self.allow_stack
            ):
                continue
            return listed, hit
        return None

    def check(self, host: str, addresses: Sequence[IPAddress], port: int | None = None) -> None:
        """Refuse unless every address ``host`` resolved to may be reached on ``port``.

        Args:
            host: The host name or literal the request named.
            addresses: What it resolved to; every one is checked.
            port: The port to be connected; None (unknown) matches no port-scoped
                allow entry and every port of the stack.

        Raises:
            EgressDenied: naming the host, the address and the reason.
        """
        for address in addresses:
            found = self.stack_part(host, address, port)
            if found is not None:
                raise _stack_refusal(host, address, port, *found)
        if self._names_host(host, port):
            return
        for address in addresses:
            reason = self._default_refusal(address, port)
            if reason is None:
                continue
            raise EgressDenied(
                f"{_subject(host, address)} {reason}; add it to FLOWFORGE_EGRESS_ALLOW to allow",
                details={"host": host, "address": str(address), "reason": reason},
            )


def _stack_refusal(
    host: str, address: IPAddress, port: int | None, listed: StackAddress, hit: IPAddress
) -> EgressDenied:
    where = join_host_port(host, port) if port is not None else host
    subject = _subject(host, address).replace(f"{host} ", f"{where} ", 1)
    if hit != address:
        subject += f" an IPv6 form of {hit}, which is"
    return EgressDenied(
        f"{subject} part of the FlowForge stack ({listed.part}): nodes may not call it even "
        "when FLOWFORGE_EGRESS_ALLOW covers it; to allow it on purpose, list "
        f"{listed.entry} in FLOWFORGE_EGRESS_ALLOW_STACK",
        details={
            "host": host,
            "address": str(address),
            "port": port,
            "reason": "stack",
            "part": listed.part,
        },
    )


def join_host_port(host: str, port: int) -> str:
    """``host:port``, with an IPv6 address in brackets."""
    host = host.strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _subject(host: str, address: IPAddress) -> str:
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal == address:
        return f"{host} is"
    return f"{host} resolves to {address}, which is"


def check_scheme(scheme: str) -> None:
    """Refuse any scheme but http and https.

    Raises:
        EgressDenied: naming the scheme.
    """
    if scheme.lower() not in ALLOWED_SCHEMES:
        raise EgressDenied(
            f"URL scheme {scheme or '(none)'!r} is not allowed; use http or https",
            details={"scheme": scheme},
        )
