"""Redirects are followed hop by hop, without leaking credentials to other origins."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from interpreter.activities import HttpActivity
from tests.support.activities import TEST_KEYS, StaticSecrets, fail, node_request, run
from tests.support.peer import Peer, Reply


@pytest.fixture
def other() -> Iterator[Peer]:
    """A second allowed server: same address, another port, so another origin."""
    server = Peer()
    try:
        yield server
    finally:
        server.close()


def redirect(status: int, location: str) -> Reply:
    return Reply(status=status, headers={"Location": location})


async def test_follows_a_redirect(http: HttpActivity, peer: Peer) -> None:
    peer.route("/old", redirect(301, "/new"))
    peer.route("/new", Reply(body={"moved": True}))

    output = await run(http.http, node_request({"url": peer.url + "/old"}))

    assert output["body"] == {"moved": True}
    assert [seen.path for seen in peer.requests] == ["/old", "/new"]


async def test_303_turns_a_post_into_a_get_without_body(http: HttpActivity, peer: Peer) -> None:
    peer.route("/submit", redirect(303, "/result"))

    await run(
        http.http, node_request({"method": "POST", "url": peer.url + "/submit", "body": {"a": 1}})
    )

    result = peer.hits("/result")[0]
    assert result.method == "GET"
    assert result.body == b""
    assert "content-type" not in result.headers


async def test_307_repeats_method_and_body(http: HttpActivity, peer: Peer) -> None:
    peer.route("/submit", redirect(307, "/again"))

    await run(
        http.http, node_request({"method": "PUT", "url": peer.url + "/submit", "body": {"a": 1}})
    )

    again = peer.hits("/again")[0]
    assert again.method == "PUT"
    assert again.json() == {"a": 1}


async def test_same_origin_redirect_keeps_credentials(http: HttpActivity, peer: Peer) -> None:
    peer.route("/old", redirect(302, "/new"))
    auth = {"type": "api_key", "key": "k", "header": "X-Token"}

    await run(http.http, node_request({"url": peer.url + "/old", "auth": auth}))

    assert peer.hits("/new")[0].headers["x-token"] == "k"


async def test_cross_origin_redirect_drops_credentials(
    http: HttpActivity, peer: Peer, other: Peer
) -> None:
    peer.route("/old", redirect(302, other.url + "/new"))
    config = {
        "url": peer.url + "/old",
        "auth": {"type": "api_key", "key": "k", "header": "X-Token"},
        "headers": {"Authorization": "Bearer t", "Cookie": "s=1", "X-Plain": "kept"},
    }

    await run(http.http, node_request(config))

    seen = other.hits("/new")[0].headers
    assert {"x-token", "authorization", "cookie"}.isdisjoint(seen)
    assert seen["x-plain"] == "kept"
    assert seen["host"] == f"127.0.0.1:{other.port}"


async def test_redirects_are_not_followed_when_disabled(http: HttpActivity, peer: Peer) -> None:
    peer.route("/old", redirect(302, "/new"))
    config = {"url": peer.url + "/old", "follow_redirects": False, "expect_status": [302]}

    output = await run(http.http, node_request(config))

    assert output["status"] == 302
    assert output["headers"]["location"] == "/new"
    assert not peer.hits("/new")


async def test_redirect_loop_stops_after_max_hops(http: HttpActivity, peer: Peer) -> None:
    peer.route("/loop", redirect(302, "/loop"))

    error = await fail(http.http, node_request({"url": peer.url + "/loop"}))

    assert error.type == "HttpStatusError"
    assert error.non_retryable
    assert "redirected more than 3 times" in error.message
    assert len(peer.hits("/loop")) == 4


async def test_cross_origin_redirect_drops_every_header_filled_from_a_secret(
    http_client: httpx.AsyncClient, peer: Peer, other: Peer
) -> None:
    http = HttpActivity(
        http_client, secrets=StaticSecrets({"s1": "k-1", "s2": "k-2"}), keys=TEST_KEYS
    )
    peer.route("/old", redirect(302, other.url + "/new"))
    config = {
        "url": peer.url + "/old",
        "headers": {
            "X-Api-Key": "{{ secrets.s1 }}",
            "X-Signed": "v1 {{ secrets['s2'] }}",
            "X-Plain": "kept",
        },
    }

    await run(http.http, node_request(config))

    assert peer.hits("/old")[0].headers["x-api-key"] == "k-1"
    seen = other.hits("/new")[0].headers
    assert {"x-api-key", "x-signed"}.isdisjoint(seen)
    assert seen["x-plain"] == "kept"
