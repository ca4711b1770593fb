"""Ports in allow entries, the stack's own addresses, and IPv6 forms of IPv4: decided directly."""

from __future__ import annotations

import ipaddress

import pytest

from interpreter.egress import (
    EgressPolicy,
    carried_ipv4,
    parse_endpoint,
    refusal_reason,
    resolve_endpoints,
    resolve_stack,
    url_endpoints,
)
from interpreter.errors import EgressDenied
from worker.runtime import stack_parts
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast

ip = ipaddress.ip_address


@pytest.mark.parametrize(
    ("entry", "text", "port"),
    [
        ("127.0.0.1:9001", "127.0.0.1:9001", 9001),
        ("10.0.0.0/8:443", "10.0.0.0/8:443", 443),
        ("[::1]:8080", "[::1]:8080", 8080),
        ("api.internal:443", "api.internal:443", 443),
        ("127.0.0.1", "127.0.0.1", None),
        ("fd00::/8", "fd00::/8", None),
        ("::1", "::1", None),
    ],
)
def test_entries_may_name_a_port(entry: str, text: str, port: int | None) -> None:
    parsed = parse_endpoint(entry)
    assert (str(parsed), parsed.port) == (text, port)


@pytest.mark.parametrize("entry", ["127.0.0.1:0", "127.0.0.1:70000", "[::1]x", "[api]:80"])
def test_bad_ports_and_brackets_fail_at_startup(entry: str) -> None:
    with pytest.raises(ValueError, match="egress"):
        parse_endpoint(entry)


def test_a_port_scoped_entry_allows_that_port_only() -> None:
    policy = EgressPolicy(["127.0.0.1:9001", "api.internal:443", "10.0.0.0/8:443"])

    policy.check("127.0.0.1", [ip("127.0.0.1")], 9001)
    policy.check("api.internal", [ip("10.9.9.9")], 443)
    policy.check("db.internal", [ip("10.1.2.3")], 443)
    for host, address, port in [
        ("127.0.0.1", "127.0.0.1", 9002),
        ("127.0.0.1", "127.0.0.1", None),
        ("api.internal", "10.9.9.9", 80),
    ]:
        with pytest.raises(EgressDenied, match="add it to FLOWFORGE_EGRESS_ALLOW"):
            policy.check(host, [ip(address)], port)


def stack_policy(allow_stack: tuple[str, ...] = ()) -> EgressPolicy:
    stack, unresolved = resolve_stack([("PostgreSQL", "127.0.0.1:5432"), ("Temporal", "10.0.0.7")])
    assert unresolved == []
    return EgressPolicy(
        ["127.0.0.0/8", "10.0.0.0/8"],
        stack=stack,
        allow_stack=resolve_endpoints(allow_stack).endpoints,
    )


@pytest.mark.parametrize(
    ("host", "address", "port", "says"),
    [
        (
            "127.0.0.1",
            "127.0.0.1",
            5432,
            "127.0.0.1:5432 is part of the FlowForge stack (PostgreSQL)",
        ),
        ("db.example", "127.0.0.1", 5432, "db.example:5432 resolves to 127.0.0.1, which is part"),
        ("::ffff:0:7f00:1", "::ffff:0:7f00:1", 5432, "an IPv6 form of 127.0.0.1, which is part"),
        ("64:ff9b::a00:7", "64:ff9b::a00:7", 7233, "stack (Temporal)"),
        ("10.0.0.7", "10.0.0.7", 443, "10.0.0.7:443 is part of the FlowForge stack (Temporal)"),
    ],
)
def test_the_stack_is_refused_though_allow_listed(
    host: str, address: str, port: int, says: str
) -> None:
    with pytest.raises(EgressDenied) as refused:
        stack_policy().check(host, [ip(address)], port)

    assert says in str(refused.value)
    assert refused.value.details["reason"] == "stack"
    assert not refused.value.retryable


def test_other_ports_of_a_stack_host_are_judged_as_usual() -> None:
    stack_policy().check("127.0.0.1", [ip("127.0.0.1")], 5433)


def test_allow_stack_lets_one_stack_address_through_on_purpose() -> None:
    policy = stack_policy(("127.0.0.1:5432",))

    policy.check("127.0.0.1", [ip("127.0.0.1")], 5432)
    with pytest.raises(EgressDenied, match=r"stack \(Temporal\)"):
        policy.check("10.0.0.7", [ip("10.0.0.7")], 7233)


def test_a_stack_host_name_is_refused_by_name_and_by_its_addresses() -> None:
    stack, _ = resolve_stack([("FlowForge API", "localhost:8000")])
    policy = EgressPolicy(["127.0.0.1/32", "::1/128", "localhost"], stack=stack)

    for host, address in [("localhost", "127.0.0.1"), ("other.name", "127.0.0.1")]:
        with pytest.raises(EgressDenied, match=r"stack \(FlowForge API\)"):
            policy.check(host, [ip(address)], 8000)


def test_a_stack_address_on_every_interface_covers_loopback() -> None:
    stack, _ = resolve_stack([("worker metrics", "0.0.0.0:9464")])
    with pytest.raises(EgressDenied, match=r"stack \(worker metrics\)"):
        EgressPolicy(["127.0.0.0/8"], stack=stack).check("127.0.0.5", [ip("127.0.0.5")], 9464)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("::ffff:0:7f00:1", "an IPv6 form of 127.0.0.1, which is loopback"),
        ("::ffff:0:a00:1", "an IPv6 form of 10.0.0.1, which is private"),
        ("64:ff9b:1::7f00:1", "an IPv6 form of 127.0.0.1, which is loopback"),
        ("64:ff9b:1:0:7f:0:100:0", "an IPv6 form of 127.0.0.1, which is loopback"),  # a /64 prefix
        ("64:ff9b:1:7f00:0:100::", "an IPv6 form of 127.0.0.1, which is loopback"),  # a /48 prefix
    ],
)
def test_translated_and_local_nat64_forms_are_judged_as_their_ipv4(
    address: str, reason: str
) -> None:
    assert refusal_reason(ip(address)) == reason


def test_a_public_address_in_local_nat64_passes() -> None:
    assert carried_ipv4(ip("64:ff9b:1::808:808")) == (ip("8.8.8.8"),)
    assert refusal_reason(ip("64:ff9b:1::808:808")) is None
    assert refusal_reason(ip("::ffff:0:808:808")) is None


@pytest.mark.parametrize(
    ("url", "entries"),
    [
        ("postgresql://u:p@db:5433/x", ["db:5433"]),
        ("postgresql://u@127.0.0.1/x", ["127.0.0.1:5432"]),
        ("postgresql://u@[::1]:6432,h2/x", ["[::1]:6432", "h2:5432"]),
        ("postgresql:///x?host=/run/postgresql", []),
    ],
)
def test_database_url_hosts(url: str, entries: list[str]) -> None:
    assert url_endpoints(url, 5432) == entries


def test_the_worker_knows_the_stack_from_its_settings() -> None:
    settings = WorkerSettings(
        temporal_address="127.0.0.1:7233",
        database_url="postgresql://u@db.internal:5432/flowforge",
        metrics_port=9464,
        stack_addresses=["FlowForge API=127.0.0.1:8000", "ui.internal"],
    )

    assert stack_parts(settings) == [
        ("Temporal frontend", "127.0.0.1:7233"),
        ("Temporal HTTP API", "127.0.0.1:7243"),
        ("Temporal Web UI", "127.0.0.1:8233"),
        ("PostgreSQL", "db.internal:5432"),
        ("worker metrics", "127.0.0.1:9464"),
        ("FlowForge API", "127.0.0.1:8000"),
        ("FLOWFORGE_STACK_ADDRESSES", "ui.internal"),
    ]


def test_a_bad_entry_stops_the_worker_at_startup() -> None:
    with pytest.raises(ValueError, match="egress_allow_stack"):
        WorkerSettings(egress_allow_stack=["127.0.0.1:99999"])
