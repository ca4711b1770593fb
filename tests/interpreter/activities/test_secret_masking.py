"""Secret values reach the upstream and nothing else: outputs, errors and records are masked."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from interpreter.activities import HttpActivity, WebhookActivity
from interpreter.activities.masking import MASK, Masker
from interpreter.activities.secrets import secret_names
from interpreter.errors import HttpStatusError
from tests.support.activities import (
    TEST_KEYS,
    MemoryRecorder,
    StaticSecrets,
    fail,
    node_request,
    run,
)
from tests.support.peer import Peer, Reply, Seen

TOKEN = 'tok"en/9+x'
"""A quote, a slash and a plus: it shows up escaped in JSON and URLs too."""


def echo(seen: Seen) -> Reply:
    auth = seen.headers.get("authorization", "")
    return Reply(body={"auth": auth, "path": seen.path}, headers={"X-Echo": "seen"})


def failing_echo(seen: Seen) -> Reply:
    return Reply(status=500, raw=f"bad credential {seen.headers['authorization']}".encode())


@pytest.fixture
def secrets() -> StaticSecrets:
    return StaticSecrets({"token": TOKEN, "unused": "never-asked-for"})


@pytest.fixture
def http(http_client: httpx.AsyncClient, secrets: StaticSecrets) -> HttpActivity:
    return HttpActivity(http_client, secrets=secrets, keys=TEST_KEYS)


def bearer(url: str) -> dict[str, Any]:
    return {"url": url, "headers": {"Authorization": "Bearer {{ secrets.token }}"}}


async def test_the_upstream_gets_the_value_and_the_output_shows_a_mask(
    http: HttpActivity, peer: Peer
) -> None:
    peer.route("/me", echo)

    output = await run(http.http, node_request(bearer(f"{peer.url}/me?k={{{{ secrets.token }}}}")))

    seen = peer.hits("/me")[0]
    assert seen.headers["authorization"] == f"Bearer {TOKEN}"
    assert output["body"]["auth"] == f"Bearer {MASK}"
    assert output["body"]["path"] == f"/me?k={MASK}"
    assert TOKEN not in json.dumps(output, ensure_ascii=False)


async def test_errors_quoting_the_value_are_masked(http: HttpActivity, peer: Peer) -> None:
    peer.route("/fail", failing_echo)

    error = await fail(http.http, node_request(bearer(f"{peer.url}/fail")))

    assert error.type == "HttpStatusError"
    assert f"bad credential Bearer {MASK}" in error.message
    assert TOKEN not in error.message
    assert TOKEN not in json.dumps(error.details, ensure_ascii=False)


async def test_a_value_in_the_url_path_is_masked_in_the_error(
    http: HttpActivity, peer: Peer
) -> None:
    config = {"url": f"{peer.url}/items/{{{{ secrets.token }}}}", "expect_status": [201]}

    error = await fail(http.http, node_request(config))

    assert error.type == "HttpStatusError"
    assert f"/items/{MASK} answered 200" in error.message
    assert "tok" not in error.message


async def test_a_webhook_record_never_keeps_the_value(
    http_client: httpx.AsyncClient, secrets: StaticSecrets, peer: Peer
) -> None:
    peer.route("/hook", failing_echo)
    recorder = MemoryRecorder()
    hook = WebhookActivity(http_client, recorder=recorder, secrets=secrets, keys=TEST_KEYS)
    config = {
        "url": f"{peer.url}/hook?token={{{{ secrets.token }}}}",
        "payload": {"a": 1},
        "headers": {"Authorization": "{{ secrets.token }}"},
    }

    error = await fail(hook.webhook, node_request(config, node_type="webhook"))

    (record,) = recorder.records
    assert record.error is not None
    assert f"bad credential {MASK}" in record.error
    assert TOKEN not in record.model_dump_json()
    assert TOKEN not in error.message


async def test_only_the_named_secrets_are_fetched(
    http: HttpActivity, secrets: StaticSecrets, peer: Peer
) -> None:
    await run(http.http, node_request(bearer(f"{peer.url}/ok"), owner="owner-7"))

    assert secrets.asked == [("owner-7", frozenset({"token"}))]


async def test_a_hole_carried_in_by_data_is_not_resolved(
    http: HttpActivity, secrets: StaticSecrets, peer: Peer
) -> None:
    # What the workflow sends when the run input held "{{ secrets.token }}".
    config = {"url": f"{peer.url}/q", "headers": {"X-Q": "\\{{ secrets.token }}"}}

    await run(http.http, node_request(config))

    assert peer.hits("/q")[0].headers["x-q"] == "{{ secrets.token }}"
    assert secrets.asked == []


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"headers": {"X": "{{ secrets.nope }}"}}, "no secret named 'nope'"),
        ({"headers": {"X": "{{ secrets['token'].missing }}"}}, "config/headers/X"),
    ],
)
async def test_secret_problems_are_config_errors_naming_the_node(
    http: HttpActivity, peer: Peer, config: dict[str, Any], message: str
) -> None:
    error = await fail(http.http, node_request({"url": f"{peer.url}/x", **config}))

    assert error.type == "ConfigError"
    assert error.non_retryable
    assert error.message.startswith("node 'call': ")
    assert message in error.message
    assert TOKEN not in error.message
    assert peer.requests == []


async def test_a_run_without_an_owner_cannot_read_secrets(http: HttpActivity, peer: Peer) -> None:
    error = await fail(http.http, node_request(bearer(f"{peer.url}/x"), owner=""))

    assert error.message == "node 'call': config: this run has no owner, so it cannot read secrets"


@pytest.mark.parametrize(
    ("config", "names"),
    [
        (
            {"a": "{{ secrets.a }}", "b": ["x {{ secrets['b'] }}", '{{ secrets["c"] }}']},
            {"a", "b", "c"},
        ),
        ({"a": "{{ input.secrets.x }}", "b": "\\{{ secrets.y }}"}, set()),
        ({"a": "{{ secrets[string(1)] }}"}, None),
    ],
)
def test_secret_names_are_read_from_the_holes(config: Any, names: set[str] | None) -> None:
    assert secret_names(config) == (None if names is None else frozenset(names))


def test_the_masker_replaces_every_form_longest_first() -> None:
    masker = Masker(["ab", "abcd", ""])
    value = {"abcd-key": ["xabcdx", 'say "ab"', 3, None], "n": 1}

    assert masker.value(value) == {
        f"{MASK}-key": [f"x{MASK}x", f'say "{MASK}"', 3, None],
        "n": 1,
    }
    assert Masker([TOKEN]).text(json.dumps({"t": TOKEN})) == json.dumps({"t": MASK})


def test_a_failure_keeps_its_type_and_other_errors_lose_the_value() -> None:
    masker = Masker(["s3cr3t"])
    with pytest.raises(HttpStatusError) as status, masker.failures():
        raise HttpStatusError("GET x: s3cr3t", status=500, details={"body": "s3cr3t!"})
    with pytest.raises(RuntimeError) as other, masker.failures():
        raise ValueError("illegal header value 's3cr3t'")

    assert (str(status.value), status.value.details) == (f"GET x: {MASK}", {"body": f"{MASK}!"})
    assert str(other.value) == f"ValueError: illegal header value '{MASK}'"
    assert other.value.__cause__ is None


@pytest.mark.parametrize(
    "hole",
    ["bytes(secrets.token)", "size(secrets.token)", "secrets.token.matches('^tok')", "secrets"],
)
async def test_an_expression_over_a_secret_is_refused_before_any_secret_is_read(
    http: HttpActivity, secrets: StaticSecrets, peer: Peer, hole: str
) -> None:
    # What a run started straight on Temporal (no save-time checks) hands the activity.
    config = {"url": f"{peer.url}/x", "headers": {"X-Api-Key": "{{ " + hole + " }}"}}

    error = await fail(http.http, node_request(config))

    assert error.type == "ConfigError"
    assert error.non_retryable
    assert error.message.startswith("node 'call': config/headers/X-Api-Key: ")
    assert "{{ secrets.NAME }}" in error.message
    assert error.details[0]["field"] == "config/headers/X-Api-Key"
    assert secrets.asked == []
    assert peer.requests == []
