"""A bad http config fails at once, naming the node and the field."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from interpreter.activities import HttpActivity, HttpConfig, HttpSettings
from tests.support.activities import TEST_KEYS, StaticSecrets, fail, node_request, run
from tests.support.peer import Peer


@pytest.mark.parametrize(
    ("config", "field", "message"),
    [
        ({"method": "FETCH", "url": "http://x/"}, "config.method", "Input should be 'GET'"),
        ({"url": "http://x/", "bogus": 1}, "config.bogus", "Extra inputs are not permitted"),
        ({}, "config.url", "Field required"),
        ({"url": "http://x/", "timeout": "soon"}, "config.timeout", "bad duration 'soon'"),
        ({"url": "http://x/", "expect_status": [99]}, "config.expect_status[0]", "greater than"),
        ({"url": "http://x/", "response": "xml"}, "config.response", "'json', 'text' or 'auto'"),
        ({"url": "http://x/", "auth": {"type": "oauth"}}, "config.auth", "does not match"),
        ({"url": "http://x/", "auth": {"type": "bearer"}}, "config.auth.bearer.token", "required"),
        (
            {
                "url": "http://x/",
                "auth": {"type": "api_key", "key": "k", "header": "H", "query": "q"},
            },
            "config.auth.api_key",
            "either header or query",
        ),
        ({"url": "http://x/", "headers": {"X-A": "a\r\nX-B: b"}}, "config.headers", "line breaks"),
        (
            {"url": "http://x/", "headers": {"Host": "internal"}},
            "config.headers",
            "set by the client",
        ),
        (
            {"url": "http://x/", "body": {}, "form": {}},
            "config",
            "only one of body, form and content",
        ),
    ],
)
async def test_config_errors_name_node_and_field(
    http: HttpActivity, config: dict[str, Any], field: str, message: str
) -> None:
    error = await fail(http.http, node_request(config))

    assert error.type == "ConfigError"
    assert error.non_retryable
    assert error.message.startswith(f"node 'call': {field}")
    assert message in error.message


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://[nope/", "is not a valid host name"),
        ("http://exa mple.com/", "is not a valid host name"),
        ("/relative/path", "is not an absolute URL"),
        ("http://127.0.0.1:99999/", "port 99999 is out of range"),
    ],
)
async def test_malformed_url_names_the_url_field(
    http: HttpActivity, url: str, message: str
) -> None:
    # Refused before any lookup: a junk host name must not become a DNS query.
    error = await fail(http.http, node_request({"url": url}))

    assert error.type == "ConfigError"
    assert error.message.startswith("node 'call': config.url: ")
    assert message in error.message


async def test_body_cap_above_the_worker_limit_is_refused(http_client: httpx.AsyncClient) -> None:
    http = HttpActivity(http_client, HttpSettings(max_response_bytes_limit=2048))

    error = await fail(http.http, node_request({"url": "http://x/", "max_response_bytes": 4096}))

    assert error.message == (
        "node 'call': config.max_response_bytes: 4096 is over this worker's limit of 2048 bytes"
    )


def test_config_model_is_reusable_for_save_time_checks() -> None:
    config = HttpConfig.model_validate({"method": "post", "url": "https://api.example.com/x"})

    assert config.method == "POST"
    assert config.follow_redirects is True
    assert config.response == "auto"


async def test_secret_holes_need_a_resolver(http: HttpActivity, peer: Peer) -> None:
    config = {"url": peer.url + "/s", "auth": {"type": "bearer", "token": "{{ secrets.crm }}"}}

    error = await fail(http.http, node_request(config))

    assert error.type == "ConfigError"
    assert error.message == "node 'call': config: secrets are not configured on this worker"
    assert not peer.requests


async def test_secret_holes_are_rendered_by_the_resolver(
    http_client: httpx.AsyncClient, peer: Peer
) -> None:
    secrets = StaticSecrets({"crm": "tok-9", "other": "unused"})
    http = HttpActivity(http_client, secrets=secrets, keys=TEST_KEYS)
    config = {"url": peer.url + "/s", "auth": {"type": "bearer", "token": "{{ secrets.crm }}"}}

    await run(http.http, node_request(config))

    assert peer.hits("/s")[0].headers["authorization"] == "Bearer tok-9"
    assert secrets.asked == [("user-1", frozenset({"crm"}))]


async def test_literal_braces_are_not_secret_holes(http: HttpActivity, peer: Peer) -> None:
    # The config is a template: braces that are data come escaped from the workflow.
    config = {"url": peer.url + "/s", "headers": {"X-Template": "\\{{ unclosed"}}

    await run(http.http, node_request(config))

    assert peer.hits("/s")[0].headers["x-template"] == "{{ unclosed"


async def test_literal_braces_do_not_hide_a_secret_hole(http: HttpActivity, peer: Peer) -> None:
    config = {
        "url": peer.url + "/s",
        "headers": {"X-Template": "\\{{ unclosed"},
        "auth": {"type": "bearer", "token": "{{ secrets.crm }}"},
    }

    error = await fail(http.http, node_request(config))

    assert error.message == "node 'call': config: secrets are not configured on this worker"
    assert not peer.requests


async def test_body_cap_above_what_a_result_may_hold_is_refused(http: HttpActivity) -> None:
    request = node_request({"url": "http://x/", "max_response_bytes": 4096})
    request.max_output_bytes = 2048

    error = await fail(http.http, request)

    assert error.type == "ConfigError"
    assert error.message == (
        "node 'call': config.max_response_bytes: 4096 is over the 2048 bytes a node's result "
        "may hold (FLOWFORGE_RUN_MAX_PAYLOAD_BYTES)"
    )
