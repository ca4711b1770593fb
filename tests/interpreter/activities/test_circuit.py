"""Which breaker a call counts on: the owner's named or implicit one, or a shared one."""

from __future__ import annotations

import httpx
import pytest

from interpreter.activities.circuit import BreakerKey, breaker_key, destination

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://API.example.com/v1?q=1", "https://api.example.com:443"),
        ("http://api.example.com/", "http://api.example.com:80"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080"),
        ("http://[::1]:9000/", "http://[::1]:9000"),
        ("https://bücher.de/", "https://xn--bcher-kva.de:443"),
    ],
)
def test_an_implicit_breaker_is_keyed_by_scheme_host_and_port(url: str, key: str) -> None:
    assert destination(httpx.URL(url)) == key


def test_two_ports_of_one_host_are_two_breakers() -> None:
    one = breaker_key("alice", None, httpx.URL("http://127.0.0.1:8001/"))
    two = breaker_key("alice", None, httpx.URL("http://127.0.0.1:8002/"))
    assert one != two


def test_a_named_breaker_is_the_owners_own() -> None:
    key = breaker_key("alice", "payments", httpx.URL("https://pay.example.com/"))
    assert key == BreakerKey("payments", "alice")
    assert (key.name, key.shared) == ("payments", False)
    assert key != breaker_key("bob", "payments", httpx.URL("https://pay.example.com/"))


def test_only_the_shared_prefix_names_a_shared_breaker() -> None:
    key = breaker_key("alice", "shared:payments", httpx.URL("https://pay.example.com/"))
    assert key == BreakerKey("payments", None)
    assert (key.name, key.shared) == ("shared:payments", True)
    assert breaker_key("bob", "shared:payments", httpx.URL("https://x.example.com/")) == key
    assert BreakerKey.parse("sharedpayments", "alice") == BreakerKey("sharedpayments", "alice")
