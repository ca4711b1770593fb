"""The address decision, tested directly: no packet goes anywhere.

Non-loopback destinations (private, link-local, metadata, CGNAT, ULA, their
IPv6 forms) are only ever judged here, never requested, so a guard bug can
not make the test suite send traffic off this host.
"""

from __future__ import annotations

import ipaddress
import re

import pytest

from interpreter.egress import EgressPolicy, check_scheme, refusal_reason
from interpreter.errors import EgressDenied

pytestmark = pytest.mark.fast

ip = ipaddress.ip_address


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "unspecified"),
        ("::", "unspecified"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fe80::1%2", "link-local"),
        ("100.100.100.200", "carrier-grade NAT (shared address space)"),
        ("100.64.0.1", "carrier-grade NAT (shared address space)"),
        ("fc00::1", "unique local (ULA)"),
        ("fd00:ec2::254", "unique local (ULA)"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.1", "reserved (not globally routable)"),
        ("198.18.0.1", "reserved (not globally routable)"),
        ("2001:db8::1", "reserved (not globally routable)"),
        ("::ffff:127.0.0.1", "an IPv6 form of 127.0.0.1, which is loopback"),
        ("::ffff:169.254.169.254", "an IPv6 form of 169.254.169.254, which is link-local"),
        ("::ffff:10.0.0.1", "an IPv6 form of 10.0.0.1, which is private"),
        ("::ffff:0.0.0.0", "an IPv6 form of 0.0.0.0, which is unspecified"),
        ("::127.0.0.1", "an IPv6 form of 127.0.0.1, which is loopback"),
        ("::169.254.169.254", "an IPv6 form of 169.254.169.254, which is link-local"),
        ("2002:7f00:1::", "an IPv6 form of 127.0.0.1, which is loopback"),
        ("2002:a9fe:a9fe::1", "an IPv6 form of 169.254.169.254, which is link-local"),
        ("64:ff9b::a9fe:a9fe", "an IPv6 form of 169.254.169.254, which is link-local"),
        ("64:ff9b::a00:1", "an IPv6 form of 10.0.0.1, which is private"),
        ("::8.8.8.8", "an IPv4-compatible IPv6 address (deprecated, not routable)"),
    ],
)
def test_non_global_addresses_are_refused(address: str, reason: str) -> None:
    assert refusal_reason(ip(address)) == reason


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "93.184.216.34",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "172.32.0.1",
        "100.128.0.1",
    ],
)
def test_global_addresses_pass(address: str) -> None:
    assert refusal_reason(ip(address)) is None


def test_refusal_names_the_address_and_the_way_out() -> None:
    with pytest.raises(EgressDenied) as refused:
        EgressPolicy().check("127.0.0.1", [ip("127.0.0.1")])

    assert str(refused.value) == "127.0.0.1 is loopback; add it to FLOWFORGE_EGRESS_ALLOW to allow"
    assert refused.value.details == {
        "host": "127.0.0.1",
        "address": "127.0.0.1",
        "reason": "loopback",
    }
    assert not refused.value.retryable


def test_refusal_of_a_name_says_what_it_resolved_to() -> None:
    with pytest.raises(
        EgressDenied, match=r"^db\.internal resolves to 10\.0\.0\.5, which is private; "
    ):
        EgressPolicy().check("db.internal", [ip("10.0.0.5")])


def test_any_refused_address_refuses_the_host() -> None:
    with pytest.raises(EgressDenied, match=re.escape("169.254.169.254, which is link-local")):
        EgressPolicy().check("mixed.example", [ip("93.184.216.34"), ip("169.254.169.254")])


def test_cidr_and_address_entries_allow_their_addresses() -> None:
    policy = EgressPolicy(allow=["10.0.0.0/8", "127.0.0.1", "fd00::/8"])

    policy.check("db.internal", [ip("10.1.2.3"), ip("::ffff:10.1.2.3")])
    policy.check("127.0.0.1", [ip("127.0.0.1")])
    policy.check("v6.internal", [ip("fd00::5")])
    with pytest.raises(EgressDenied, match=re.escape("127.0.0.2 is loopback")):
        policy.check("127.0.0.2", [ip("127.0.0.2")])


def test_host_name_entries_allow_exactly_that_name() -> None:
    policy = EgressPolicy(allow=["Metadata.Internal."])

    policy.check("metadata.internal", [ip("169.254.169.254")])
    policy.check("METADATA.internal.", [ip("169.254.169.254")])
    with pytest.raises(EgressDenied):
        policy.check("evil.metadata.internal", [ip("169.254.169.254")])


@pytest.mark.parametrize("entry", ["*.example.com", "http://x", "10.0.0.0/33", "a b"])
def test_bad_allow_entries_fail_at_startup(entry: str) -> None:
    with pytest.raises(ValueError, match="neither a CIDR, an IP address nor a host name"):
        EgressPolicy(allow=[entry])


@pytest.mark.parametrize("scheme", ["file", "ftp", "gopher", "ws", "dict", ""])
def test_only_http_schemes(scheme: str) -> None:
    with pytest.raises(EgressDenied, match="is not allowed; use http or https"):
        check_scheme(scheme)


def test_http_schemes_pass() -> None:
    check_scheme("http")
    check_scheme("HTTPS")
