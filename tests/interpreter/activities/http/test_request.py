"""What the http node sends and what it returns, against a real local server."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from interpreter.activities import HttpActivity
from tests.support.activities import node_request, run
from tests.support.peer import Peer, Reply


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
async def test_sends_each_method(http: HttpActivity, peer: Peer, method: str) -> None:
    output = await run(http.http, node_request({"method": method.lower(), "url": peer.url + "/m"}))

    assert output["status"] == 200
    assert peer.hits("/m")[0].method == method


async def test_query_merges_with_the_url_query(http: HttpActivity, peer: Peer) -> None:
    config = {"url": peer.url + "/q?fixed=1", "query": {"page": 2, "tag": ["a", "b"], "on": True}}

    await run(http.http, node_request(config))

    query = parse_qs(urlsplit(peer.hits("/q")[0].path).query)
    assert query == {"fixed": ["1"], "page": ["2"], "tag": ["a", "b"], "on": ["true"]}


async def test_sends_headers_and_numbers_as_text(http: HttpActivity, peer: Peer) -> None:
    config = {"url": peer.url + "/h", "headers": {"X-Trace": "abc", "X-Count": 3}}

    await run(http.http, node_request(config))

    seen = peer.hits("/h")[0].headers
    assert seen["x-trace"] == "abc"
    assert seen["x-count"] == "3"
    assert seen["user-agent"] == "FlowForge"


async def test_json_body(http: HttpActivity, peer: Peer) -> None:
    body = {"lead": {"id": 7, "tags": ["hot"]}, "ok": None}

    await run(http.http, node_request({"method": "POST", "url": peer.url + "/j", "body": body}))

    seen = peer.hits("/j")[0]
    assert seen.headers["content-type"] == "application/json"
    assert seen.json() == body


async def test_form_body(http: HttpActivity, peer: Peer) -> None:
    config = {"method": "POST", "url": peer.url + "/f", "form": {"name": "Ada", "n": 1}}

    await run(http.http, node_request(config))

    seen = peer.hits("/f")[0]
    assert seen.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(seen.body.decode()) == {"name": ["Ada"], "n": ["1"]}


async def test_raw_content(http: HttpActivity, peer: Peer) -> None:
    config = {
        "method": "PUT",
        "url": peer.url + "/c",
        "content": "<lead id='7'/>",
        "headers": {"Content-Type": "application/xml"},
    }

    await run(http.http, node_request(config))

    seen = peer.hits("/c")[0]
    assert seen.body == b"<lead id='7'/>"
    assert seen.headers["content-type"] == "application/xml"


async def test_basic_auth(http: HttpActivity, peer: Peer) -> None:
    auth = {"type": "basic", "username": "ada", "password": "s3cr:et"}

    await run(http.http, node_request({"url": peer.url + "/a", "auth": auth}))

    expected = base64.b64encode(b"ada:s3cr:et").decode()
    assert peer.hits("/a")[0].headers["authorization"] == f"Basic {expected}"


async def test_bearer_auth(http: HttpActivity, peer: Peer) -> None:
    auth = {"type": "bearer", "token": "tok-123"}

    await run(http.http, node_request({"url": peer.url + "/a", "auth": auth}))

    assert peer.hits("/a")[0].headers["authorization"] == "Bearer tok-123"


async def test_api_key_in_default_and_named_header(http: HttpActivity, peer: Peer) -> None:
    await run(
        http.http, node_request({"url": peer.url + "/a", "auth": {"type": "api_key", "key": "k1"}})
    )
    named = {"type": "api_key", "key": "k2", "header": "X-Token"}
    await run(http.http, node_request({"url": peer.url + "/b", "auth": named}))

    assert peer.hits("/a")[0].headers["x-api-key"] == "k1"
    assert peer.hits("/b")[0].headers["x-token"] == "k2"


async def test_api_key_in_query(http: HttpActivity, peer: Peer) -> None:
    auth = {"type": "api_key", "key": "k3", "query": "api_key"}

    await run(http.http, node_request({"url": peer.url + "/a?x=1", "auth": auth}))

    seen = peer.hits("/a")[0]
    assert parse_qs(urlsplit(seen.path).query) == {"x": ["1"], "api_key": ["k3"]}
    assert "x-api-key" not in seen.headers


async def test_idempotency_key_header(http: HttpActivity, peer: Peer) -> None:
    request = node_request({"method": "POST", "url": peer.url + "/i"}, idempotency_key="abc123")

    await run(http.http, request)
    await run(http.http, node_request({"method": "POST", "url": peer.url + "/n"}))

    assert peer.hits("/i")[0].headers["idempotency-key"] == "abc123"
    assert "idempotency-key" not in peer.hits("/n")[0].headers


async def test_output_has_status_headers_and_json_body(http: HttpActivity, peer: Peer) -> None:
    peer.route("/o", Reply(status=201, body={"id": 9}, headers={"X-Request-Id": "r-1"}))

    output = await run(http.http, node_request({"method": "POST", "url": peer.url + "/o"}))

    assert output["status"] == 201
    assert output["headers"]["x-request-id"] == "r-1"
    assert output["body"] == {"id": 9}
    json.dumps(output)  # the output must be plain JSON data for history


async def test_expect_status_accepts_listed_non_2xx(http: HttpActivity, peer: Peer) -> None:
    peer.route("/gone", Reply(status=404, body={"error": "gone"}))

    output = await run(
        http.http, node_request({"url": peer.url + "/gone", "expect_status": [200, 404]})
    )

    assert output["status"] == 404
    assert output["body"] == {"error": "gone"}


@pytest.mark.parametrize(
    ("mode", "content_type", "raw", "expected"),
    [
        ("json", "text/plain", b'{"a": 1}', {"a": 1}),
        ("text", "application/json", b'{"a": 1}', '{"a": 1}'),
        ("auto", "application/json; charset=utf-8", b'{"a": 1}', {"a": 1}),
        ("auto", "application/problem+json", b'{"a": 1}', {"a": 1}),
        ("auto", "text/html", b"<p>hi</p>", "<p>hi</p>"),
        ("auto", "application/json", b"not json", "not json"),
        ("auto", "application/json", b"", None),
        ("text", "text/plain; charset=latin-1", "caf\u00e9".encode("latin-1"), "caf\u00e9"),
    ],
)
async def test_response_parsing(
    http: HttpActivity, peer: Peer, mode: str, content_type: str, raw: bytes, expected: object
) -> None:
    peer.route("/r", Reply(raw=raw, headers={"Content-Type": content_type}))

    output = await run(http.http, node_request({"url": peer.url + "/r", "response": mode}))

    assert output["body"] == expected
