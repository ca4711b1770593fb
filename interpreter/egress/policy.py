"""Which destinations outbound HTTP may reach.

Only globally routable addresses are allowed by default: anything that can
reach the worker's own host, its private network or a cloud metadata service
is refused unless an operator allow-lists it (``FLOWFORGE_EGRESS_ALLOW``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

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
_COMPATIBLE = _V6("::/96")
_SIX_TO_FOUR = _V6("2002::/16")
_NAT64 = _V6("64:ff9b::/96")

_HOSTNAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, compatible, 6to4, NAT64)."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address in _MAPPED:
        return address.ipv4_mapped
    if address in _SIX_TO_FOUR:
        return address.sixtofour
    if address in _NAT64 or (address in _COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def refusal_reason(address: IPAddress) -> str | None:
    """Why ``address`` must not be reached by default, or None if it is global.

    Args:
        address: A resolved address (an IPv6 zone such as ``%eth0`` does not matter).
    """
    inner = embedded_ipv4(address)
    if inner is not None:
        inner_reason = refusal_reason(inner)
        if inner_reason is not None:
            return f"an IPv6 form of {inner}, which is {inner_reason}"
        if address in _COMPATIBLE:
            return "an IPv4-compatible IPv6 address (deprecated, not routable)"
        return None
    for network, reason in _REFUSED:
        if address.version == network.version and address in network:
            return reason
    if not address.is_global:
        return "reserved (not globally routable)"
    return None


def _normalise_host(host: str) -> str:
    return host.strip().rstrip(".").lower()


class EgressPolicy:
    """The allow-list that overrides the default refusals.

    Args:
        allow: Entries that are CIDRs (``10.1.0.0/16``), single addresses
            (``127.0.0.1``) or exact host names (``api.internal``). A host name
            entry allows whatever that name resolves to; sub-domains are not
            included.

    Raises:
        ValueError: an entry is neither a CIDR, an address nor a host name.
    """

    def __init__(self, allow: Iterable[str] = ()) -> None:
        self.networks: list[IPNetwork] = []
        self.hosts: set[str] = set()
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry.strip(), strict=False))
                continue
            except ValueError:
                pass
            host = _normalise_host(entry)
            if not _HOSTNAME.match(host):
                raise ValueError(
                    f"egress allow-list entry {entry!r} is neither a CIDR, an IP address "
                    "nor a host name"
                )
            self.hosts.add(host)

    def allows_address(self, address: IPAddress) -> bool:
        """True if ``address`` (or the IPv4 address it embeds) is public or allow-listed."""
        candidates = [address]
        inner = embedded_ipv4(address)
        if inner is not None:
            candidates.append(inner)
        return any(
            candidate.version == network.version and candidate in network
            for candidate in candidates
            for network in self.networks
        )

    def check(self, host: str, addresses: Sequence[IPAddress]) -> None:
        """Refuse unless every address ``host`` resolved to may be reached.

        Raises:
            EgressDenied: naming the host, the address and the reason.
        """
        name = _normalise_host(host)
        if name in self.hosts:
            return
        for address in addresses:
            if self.allows_address(address):
                continue
            reason = refusal_reason(address)
            if reason is None:
                continue
            raise EgressDenied(
                f"{_subject(host, address)} {reason}; add it to FLOWFORGE_EGRESS_ALLOW to allow",
                details={"host": host, "address": str(address), "reason": reason},
            )


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
