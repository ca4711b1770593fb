"""How the http node fails: which failures are retried, and after how long."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from interpreter.activities import HttpActivity
from interpreter.dsl.definition import RetrySpec
from tests.support.activities import fail, node_request, run
from tests.support.peer import Peer, Reply


async def test_400_is_not_retried_and_quotes_the_body(http: HttpActivity, peer: Peer) -> None:
    peer.route("/bad", Reply(status=400, raw=b"missing field 'email'" + b"x" * 2000))

    error = await fail(http.http, node_request({"method": "POST", "url": peer.url + "/bad"}))

    assert error.type == "HttpStatusError"
    assert error.non_retryable
    assert f"POST {peer.url}/bad answered 400: missing field 'email'" in error.message
    details = error.details[0]
    assert details["status"] == 400
    assert details["body"].startswith("missing field 'email'")
    assert len(details["body"]) == 512


@pytest.mark.parametrize("status", [503, 429, 500, 408])
async def test_retry_on_status_is_retryable(http: HttpActivity, peer: Peer, status: int) -> None:
    peer.route("/busy", Reply(status=status, body={"error": "busy"}))

    error = await fail(http.http, node_request({"url": peer.url + "/busy"}))

    assert error.type == "HttpStatusError"
    assert not error.non_retryable
    assert error.details[0]["status"] == status


async def test_retry_on_status_comes_from_the_retry_spec(http: HttpActivity, peer: Peer) -> None:
    peer.route("/conflict", Reply(status=409))
    peer.route("/busy", Reply(status=503))
    retry = RetrySpec(retry_on_status=[409])

    conflict = await fail(http.http, node_request({"url": peer.url + "/conflict"}, retry=retry))
    busy = await fail(http.http, node_request({"url": peer.url + "/busy"}, retry=retry))

    assert not conflict.non_retryable
    assert busy.non_retryable


@pytest.mark.parametrize("status", [429, 503])
async def test_retry_after_seconds_is_the_next_delay(
    http: HttpActivity, peer: Peer, status: int
) -> None:
    peer.route("/later", Reply(status=status, headers={"Retry-After": "7"}))

    error = await fail(http.http, node_request({"url": peer.url + "/later"}))

    assert error.next_retry_delay == timedelta(seconds=7)


async def test_retry_after_http_date_is_the_next_delay(http: HttpActivity, peer: Peer) -> None:
    when = datetime.now(UTC) + timedelta(seconds=120)
    peer.route(
        "/later", Reply(status=503, headers={"Retry-After": format_datetime(when, usegmt=True)})
    )

    error = await fail(http.http, node_request({"url": peer.url + "/later"}))

    assert error.next_retry_delay is not None
    assert timedelta(seconds=100) < error.next_retry_delay <= timedelta(seconds=120)


async def test_without_retry_after_temporal_picks_the_delay(http: HttpActivity, peer: Peer) -> None:
    peer.route("/busy", Reply(status=503))
    linear = RetrySpec(strategy="linear", initial_interval="2s")

    exponential = await fail(http.http, node_request({"url": peer.url + "/busy"}))
    stepped = await fail(
        http.http, node_request({"url": peer.url + "/busy"}, retry=linear), attempt=2
    )

    assert exponential.next_retry_delay is None
    assert stepped.next_retry_delay == timedelta(seconds=4)


async def test_connection_refused_is_a_retryable_network_error(http: HttpActivity) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    # Nothing listens on the port now: the connect is refused.

    error = await fail(http.http, node_request({"url": f"http://127.0.0.1:{port}/"}))

    assert error.type == "HttpNetworkError"
    assert not error.non_retryable
    assert "ConnectError" in error.message


async def test_slow_peer_times_out_retryably(http: HttpActivity, peer: Peer) -> None:
    peer.route("/slow", Reply(delay=2.0))

    error = await fail(http.http, node_request({"url": peer.url + "/slow", "timeout": "300ms"}))

    assert error.type == "HttpNetworkError"
    assert not error.non_retryable
    assert "no complete response within 0.3s" in error.message


async def test_node_timeout_is_the_default_request_timeout(http: HttpActivity, peer: Peer) -> None:
    peer.route("/slow", Reply(delay=2.0))

    error = await fail(http.http, node_request({"url": peer.url + "/slow"}), timeout=0.3)

    assert "within 0.3s" in error.message


async def test_declared_oversized_body_is_refused(http: HttpActivity, peer: Peer) -> None:
    peer.route("/big", Reply(raw=b"x" * 2048))

    error = await fail(
        http.http, node_request({"url": peer.url + "/big", "max_response_bytes": 1024})
    )

    assert error.type == "ResponseTooLarge"
    assert error.non_retryable


async def test_streamed_body_is_cut_off_past_the_cap(http: HttpActivity, peer: Peer) -> None:
    peer.route("/stream", Reply(chunks=[b"x" * 600] * 4))

    error = await fail(
        http.http, node_request({"url": peer.url + "/stream", "max_response_bytes": 1024})
    )

    assert error.type == "ResponseTooLarge"
    assert "over 1024 bytes" in error.message


async def test_body_at_the_cap_is_accepted(http: HttpActivity, peer: Peer) -> None:
    peer.route("/stream", Reply(chunks=[b"x" * 512] * 2, headers={"Content-Type": "text/plain"}))

    output = await run(
        http.http, node_request({"url": peer.url + "/stream", "max_response_bytes": 1024})
    )

    assert output["body"] == "x" * 1024


async def test_json_mode_refuses_a_non_json_body(http: HttpActivity, peer: Peer) -> None:
    peer.route("/html", Reply(raw=b"<html></html>", headers={"Content-Type": "text/html"}))

    error = await fail(http.http, node_request({"url": peer.url + "/html", "response": "json"}))

    assert error.type == "ResponseInvalid"
    assert error.non_retryable
