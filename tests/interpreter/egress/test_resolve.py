"""The OS resolver reads odd IPv4 spellings as addresses; the guard sees what it sees.

Only numeric literals and /etc/hosts names are resolved here: getaddrinfo
parses them locally, so no DNS query leaves the host.
"""

from __future__ import annotations

import ipaddress

import pytest

from interpreter.egress import canonical_ipv4_url, numeric_ipv4, refusal_reason, system_resolve

pytestmark = pytest.mark.fast

LOOPBACK = ipaddress.ip_address("127.0.0.1")
METADATA = ipaddress.ip_address("169.254.169.254")


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("2130706433", LOOPBACK),  # decimal
        ("0177.0.0.1", LOOPBACK),  # octal
        ("0x7f000001", LOOPBACK),  # hex
        ("0x7f.0.0.1", LOOPBACK),
        ("127.1", LOOPBACK),  # short form
        ("017700000001", LOOPBACK),
        ("2852039166", METADATA),
        ("0xa9fea9fe", METADATA),
        ("0251.0376.0251.0376", METADATA),
        ("169.254.43518", METADATA),
    ],
)
async def test_os_resolver_normalises_numeric_spellings(
    spelling: str, address: ipaddress.IPv4Address
) -> None:
    assert await system_resolve(spelling, 80) == [address]
    assert numeric_ipv4(spelling) == address
    assert refusal_reason(address) is not None


async def test_localhost_resolves_to_loopback_only() -> None:
    addresses = await system_resolve("localhost", 80)

    assert addresses
    assert all(refusal_reason(address) == "loopback" for address in addresses)


async def test_ipv6_literals_resolve_to_themselves() -> None:
    assert await system_resolve("::ffff:127.0.0.1", 80) == [ipaddress.ip_address("::ffff:7f00:1")]


@pytest.mark.parametrize("host", ["example.com", "1.2.3.4.5", "08.0.0.1", "", "1.2.3.4 x"])
def test_names_are_not_numeric_spellings(host: str) -> None:
    assert numeric_ipv4(host) is None


def test_canonical_url_rewrites_only_the_host() -> None:
    assert (
        canonical_ipv4_url("http://user@0177.0.0.1:8080/p?q=1#f")
        == "http://user@127.0.0.1:8080/p?q=1#f"
    )
    assert canonical_ipv4_url("http://api.example.com/") is None
