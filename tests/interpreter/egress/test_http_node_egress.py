"""The http node refuses what the guard refuses, on the first hop and on every redirect."""

from __future__ import annotations

import httpx
import pytest

from interpreter.activities import HttpActivity
from tests.support.activities import fail, node_request
from tests.support.peer import Peer, Reply


@pytest.fixture
def http(peer_only: httpx.AsyncClient) -> HttpActivity:
    return HttpActivity(peer_only)


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.2", "127.0.0.2 is loopback"),
        ("0177.0.0.2", "127.0.0.2 is loopback"),  # octal: httpx refuses it, the OS would not
        ("2130706434", "2130706434 resolves to 127.0.0.2, which is loopback"),
        ("0x7f000002", "0x7f000002 resolves to 127.0.0.2, which is loopback"),
        ("[::ffff:127.0.0.2]", "an IPv6 form of 127.0.0.2, which is loopback"),
        ("[::1]", "::1 is loopback"),
        ("0.0.0.0", "0.0.0.0 is unspecified"),
    ],
)
async def test_refused_destination_is_a_non_retryable_egress_error(
    http: HttpActivity, canary: Peer, host: str, message: str
) -> None:
    error = await fail(http.http, node_request({"url": f"http://{host}:{canary.port}/"}))

    assert error.type == "EgressDenied"
    assert error.non_retryable
    assert message in error.message
    assert not canary.requests


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/", "dict://127.0.0.1/"],
)
async def test_other_schemes_are_refused(http: HttpActivity, url: str) -> None:
    error = await fail(http.http, node_request({"url": url}))

    assert error.type == "EgressDenied"
    assert error.non_retryable
    assert "is not allowed; use http or https" in error.message


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/internal",
        "http://0177.0.0.2:{port}/internal",
        "http://[::ffff:127.0.0.2]:{port}/internal",
    ],
)
async def test_redirect_to_a_refused_address_is_refused(
    http: HttpActivity, peer: Peer, canary: Peer, location: str
) -> None:
    peer.route("/hop", Reply(status=302, headers={"Location": location.format(port=canary.port)}))

    error = await fail(http.http, node_request({"url": peer.url + "/hop"}))

    assert error.type == "EgressDenied"
    assert (
        "127.0.0.2, which is loopback" in error.message or "127.0.0.2 is loopback" in error.message
    )
    assert len(peer.hits("/hop")) == 1
    assert not canary.requests


async def test_redirect_to_another_scheme_is_refused(http: HttpActivity, peer: Peer) -> None:
    peer.route("/hop", Reply(status=301, headers={"Location": "file:///etc/passwd"}))

    error = await fail(http.http, node_request({"url": peer.url + "/hop"}))

    assert error.type == "EgressDenied"
    assert "URL scheme 'file' is not allowed" in error.message
