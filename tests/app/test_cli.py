"""The ``flowforge`` CLI against a real HTTP server on 127.0.0.1 that answers like the API,
and against the real API where what matters is what the CLI does not read."""

from __future__ import annotations

import asyncio
import json
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from temporalio.worker import Worker
from typer.testing import CliRunner, Result

from app.cli.main import app
from tests.support.api import API, Actor, definition
from tests.support.peer import Peer, Reply, Seen

DEFINITION = {"dsl_version": 1, "name": "hello", "nodes": [{"id": "a", "type": "log"}]}
WORKFLOWS = "/api/v1/workflows"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return tmp_path / "config"


@pytest.fixture
def cli(peer: Peer, config_dir: Path) -> Callable[..., Result]:
    """Run ``flowforge ...`` in-process against ``peer``, with its own config dir."""
    runner = CliRunner()

    def run(*args: str, token: str | None = "t0k", stdin: str | None = None) -> Result:
        env = {"FLOWFORGE_API_URL": peer.url, "FLOWFORGE_CLI_CONFIG_DIR": str(config_dir)}
        env["FLOWFORGE_TOKEN"] = token or ""
        return runner.invoke(app, list(args), env=env, input=stdin)

    return run


def workflow_pages(peer: Peer, pages: list[list[dict[str, Any]]]) -> None:
    """GET /workflows answers ``pages`` one after the other, cursors linking them."""

    def handler(seen: Seen) -> Reply:
        if seen.method == "POST":
            return Reply(201, {"id": "wf-new", **seen.json()["definition"], "version": 1})
        cursor = parse_qs(seen.path.partition("?")[2]).get("cursor", ["0"])[0]
        index = int(cursor)
        following = str(index + 1) if index + 1 < len(pages) else None
        return Reply(200, {"items": pages[index], "next_cursor": following})

    peer.route(WORKFLOWS, handler)


def test_login_stores_a_private_token_that_later_commands_send(
    peer: Peer, cli: Any, config_dir: Path
) -> None:
    peer.route("/api/v1/auth/token", Reply(200, {"access_token": "abc", "token_type": "bearer"}))
    peer.route("/api/v1/runs/r1", Reply(200, {"run_id": "r1", "status": "running"}))

    logged_in = cli("login", "--username", "ada", "--password", "s3cret", token=None)
    assert logged_in.exit_code == 0, logged_in.output
    form = parse_qs(peer.hits("/api/v1/auth/token")[0].body.decode())
    assert form == {"username": ["ada"], "password": ["s3cret"]}
    stored = config_dir / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert "abc" not in logged_in.stdout

    got = cli("runs", "get", "r1", "--json", token=None)
    assert got.exit_code == 0, got.output
    assert json.loads(got.stdout)["status"] == "running"
    assert peer.hits("/api/v1/runs/r1")[0].headers["authorization"] == "Bearer abc"


def test_the_environment_token_wins(peer: Peer, cli: Any) -> None:
    peer.route("/api/v1/runs/r1", Reply(200, {"run_id": "r1"}))
    assert cli("runs", "get", "r1", token="from-env").exit_code == 0
    assert peer.hits("/api/v1/runs/r1")[0].headers["authorization"] == "Bearer from-env"


def test_without_a_token_nothing_is_sent(peer: Peer, cli: Any) -> None:
    result = cli("runs", "get", "r1", token=None)
    assert result.exit_code == 1
    assert "flowforge login" in result.stderr
    assert peer.requests == []


def test_apply_creates_a_new_workflow(peer: Peer, cli: Any, tmp_path: Path) -> None:
    workflow_pages(peer, [[{"id": "wf-1", "name": "other"}]])
    file = tmp_path / "hello.json"
    file.write_text(json.dumps(DEFINITION))

    result = cli("workflows", "apply", str(file))

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["id"] == "wf-new"
    posted = [s for s in peer.hits(WORKFLOWS) if s.method == "POST"]
    assert [s.json() for s in posted] == [{"definition": DEFINITION}]


def test_apply_adds_a_version_to_the_workflow_of_that_name(peer: Peer, cli: Any) -> None:
    workflow_pages(peer, [[{"id": "wf-1", "name": "other"}], [{"id": "wf-2", "name": "hello"}]])
    peer.route(f"{WORKFLOWS}/wf-2", lambda seen: Reply(200, {"id": "wf-2", "version": 2}))

    result = cli("workflows", "apply", "-", "--no-activate", stdin=json.dumps(DEFINITION))

    assert result.exit_code == 0, result.output
    put = peer.hits(f"{WORKFLOWS}/wf-2")[0]
    assert (put.method, put.json()) == ("PUT", {"definition": DEFINITION})
    assert parse_qs(put.path.partition("?")[2]) == {"activate": ["false"]}
    assert [s.method for s in peer.hits(WORKFLOWS)] == ["GET", "GET"]


def test_apply_refuses_a_file_that_is_not_a_definition(
    peer: Peer, cli: Any, tmp_path: Path
) -> None:
    file = tmp_path / "list.json"
    file.write_text("[1, 2]")
    result = cli("workflows", "apply", str(file))
    assert result.exit_code == 1
    assert "string `name`" in result.stderr
    assert peer.requests == []


def test_an_invalid_definition_prints_every_error(peer: Peer, cli: Any) -> None:
    errors = [{"path": "/nodes/0/type", "code": "unknown_node_type", "message": "no such type"}]

    def handler(seen: Seen) -> Reply:
        if seen.method == "POST":
            return Reply(422, {"detail": "invalid definition", "errors": errors})
        return Reply(200, {"items": [], "next_cursor": None})

    peer.route(WORKFLOWS, handler)

    result = cli("workflows", "apply", "-", stdin=json.dumps(DEFINITION))

    assert result.exit_code == 1
    assert "422" in result.stderr
    assert "unknown_node_type" in result.stderr
    assert "invalid definition" in result.stderr


def test_list_passes_the_page_options(peer: Peer, cli: Any) -> None:
    peer.route(WORKFLOWS, Reply(200, {"items": [{"id": "wf-1"}], "next_cursor": None}))
    result = cli("workflows", "list", "--limit", "5", "--cursor", "c1", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["items"] == [{"id": "wf-1"}]
    query = parse_qs(peer.hits(WORKFLOWS)[0].path.partition("?")[2])
    assert query == {"limit": ["5"], "cursor": ["c1"]}


def test_runs_start_by_name_with_input_and_idempotency_key(peer: Peer, cli: Any) -> None:
    workflow_pages(peer, [[{"id": "wf-2", "name": "hello"}]])
    peer.route(f"{WORKFLOWS}/wf-2/runs", Reply(202, {"run_id": "r1", "status": "running"}))

    result = cli(
        "runs", "start", "hello", "--input", '{"name": "Ada"}', "--idempotency-key", "k1", "--json"
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"run_id": "r1", "status": "running"}
    start = peer.hits(f"{WORKFLOWS}/wf-2/runs")[0]
    assert start.json() == {"input": {"name": "Ada"}}
    assert start.headers["idempotency-key"] == "k1"


def test_runs_start_of_an_unknown_workflow_fails_clearly(peer: Peer, cli: Any) -> None:
    workflow_pages(peer, [[]])
    result = cli("runs", "start", "nope")
    assert result.exit_code == 1
    assert "no workflow with id or name 'nope'" in result.stderr


def test_runs_start_refuses_input_that_is_not_json(peer: Peer, cli: Any) -> None:
    result = cli("runs", "start", "hello", "--input", "{name: Ada}")
    assert result.exit_code == 1
    assert "--input must be JSON" in result.stderr


@pytest.mark.parametrize("action", ["pause", "resume", "cancel"])
def test_run_controls_post_to_their_action(peer: Peer, cli: Any, action: str) -> None:
    peer.route(f"/api/v1/runs/r1/{action}", Reply(202, {"run_id": "r1", "status": action}))
    result = cli("runs", action, "r1")
    assert result.exit_code == 0, result.output
    assert [s.method for s in peer.hits(f"/api/v1/runs/r1/{action}")] == ["POST"]


def test_a_conflict_prints_the_apis_detail(peer: Peer, cli: Any) -> None:
    peer.route("/api/v1/runs/r1/resume", Reply(409, {"detail": "run r1 is running, not paused"}))
    result = cli("runs", "resume", "r1")
    assert result.exit_code == 1
    assert "409" in result.stderr
    assert "run r1 is running, not paused" in result.stderr


def test_users_create_sends_name_password_and_role(peer: Peer, cli: Any) -> None:
    peer.route("/api/v1/users", Reply(201, {"id": "u1", "username": "bob", "role": "viewer"}))
    result = cli("users", "create", "bob", "--password", "pw-123456", "--role", "viewer")
    assert result.exit_code == 0, result.output
    body = peer.hits("/api/v1/users")[0].json()
    assert body == {"username": "bob", "password": "pw-123456", "role": "viewer"}


def test_an_unreachable_api_is_named() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    runner = CliRunner()
    env = {"FLOWFORGE_API_URL": f"http://127.0.0.1:{port}", "FLOWFORGE_TOKEN": "t"}
    result = runner.invoke(app, ["runs", "get", "r1"], env=env)
    assert result.exit_code == 1
    assert f"cannot reach the API at http://127.0.0.1:{port}" in result.stderr


async def test_a_prod_environment_without_the_apis_secrets_still_reads_runs(
    served_api: str,
    http: httpx.AsyncClient,
    editor: Actor,
    worker: Worker,
    config_dir: Path,
) -> None:
    workflow = await http.post(
        f"{API}/workflows", json={"definition": definition()}, headers=editor.headers
    )
    assert workflow.status_code == 201, workflow.text
    started = await http.post(
        f"{API}/workflows/{workflow.json()['id']}/runs", json={}, headers=editor.headers
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    env = {
        # The API's settings refuse to load like this; the CLI never builds them.
        "FLOWFORGE_ENVIRONMENT": "prod",
        "FLOWFORGE_JWT_SECRET": None,
        "FLOWFORGE_SECRETS_KEY": None,
        "FLOWFORGE_API_URL": served_api,
        "FLOWFORGE_TOKEN": editor.headers["Authorization"].removeprefix("Bearer "),
        "FLOWFORGE_CLI_CONFIG_DIR": str(config_dir),
    }

    # Off the event loop: the worker answering the API's status query runs on it.
    result = await asyncio.to_thread(
        CliRunner().invoke, app, ["runs", "get", run_id, "--json"], env=env
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] == run_id
