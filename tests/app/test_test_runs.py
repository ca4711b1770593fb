"""Test runs: the real interpreter on Temporal, mocked nodes answering in workflow code.

The peer must see no request for a mocked node and exactly one for a node run for real.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from app.core.state import AppState
from app.db.models.run import RunRecord
from app.settings import Settings
from tests.support.api import API, Actor, create_workflow, definition, run_becomes, start_run
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply


def http_node(node_id: str, url: str, **extra: Any) -> dict[str, Any]:
    return {"id": node_id, "type": "http", "config": {"url": url, **extra}}


async def run_as_test(
    http: httpx.AsyncClient, actor: Actor, body: dict[str, Any]
) -> dict[str, Any]:
    response = await http.post(
        f"{API}/workflows/test", params={"wait": "true"}, json=body, headers=actor.headers
    )
    assert response.status_code == 200, response.text
    run: dict[str, Any] = response.json()
    assert run["test"] is True
    assert run["trigger"] == "test"
    return run


def nodes_of(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in run["nodes"]}


async def test_a_mocked_output_flows_downstream_and_the_peer_sees_nothing(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    body = definition(
        nodes=[
            http_node(
                "fetch",
                f"{peer.url}/users/{{{{ input.id }}}}",
                method="POST",
                headers={"Authorization": "Bearer {{ secrets.crm_token }}"},
                body={"id": "{{ input.id }}"},
            ),
            {
                "id": "name",
                "type": "transform",
                "config": {"value": "{{ nodes.fetch.output.body.name }}"},
            },
        ],
        edges=[{"from": "fetch", "to": "name"}],
        output="{{ nodes.name.output }}",
    )
    workflow = await create_workflow(http, editor, body)

    run = await run_as_test(
        http,
        editor,
        {
            "workflow_id": workflow["id"],
            "input": {"id": 7},
            "mocks": {"fetch": {"output": {"status": 200, "body": {"name": "Ada"}}}},
        },
    )

    assert run["status"] == "succeeded", run
    assert run["output"] == "Ada"
    assert peer.requests == []
    tested = run["tested"]["fetch"]
    assert tested["mocked"] is True
    assert tested["config"]["url"] == f"{peer.url}/users/7"
    assert tested["config"]["method"] == "POST"
    assert tested["config"]["body"] == {"id": 7}
    # The secret stays the hole it was written as: nothing resolved it, nothing shows it.
    assert tested["config"]["headers"] == {"Authorization": "Bearer {{ secrets.crm_token }}"}


async def test_a_mocked_error_takes_the_failure_edge(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    body = definition(
        nodes=[
            {**http_node("charge", f"{peer.url}/charge"), "retry": {"strategy": "none"}},
            {"id": "ok", "type": "transform", "config": {"value": "charged"}},
            {
                "id": "declined",
                "type": "transform",
                "config": {"value": "{{ nodes.charge.error.type }}"},
            },
        ],
        edges=[
            {"from": "charge", "to": "ok"},
            {"from": "charge", "to": "declined", "on": "failure"},
        ],
        output="{{ nodes.declined.output }}",
    )
    run = await run_as_test(
        http,
        editor,
        {
            "definition": body,
            "workflow_id": (await create_workflow(http, editor))["id"],
            "mocks": {"charge": {"error": {"type": "HttpStatusError", "message": "402"}}},
        },
    )

    nodes = nodes_of(run)
    assert run["status"] == "succeeded", run
    assert run["output"] == "HttpStatusError"
    assert nodes["charge"]["status"] == "failed"
    assert nodes["ok"]["status"] == "skipped"
    assert peer.requests == []
    edges = {(edge["source"], edge["target"]): edge for edge in run["edges"]}
    assert edges["charge", "ok"]["taken"] is False
    assert edges["charge", "ok"]["why"] == "charge failed; the edge follows on success"
    assert edges["charge", "declined"]["taken"] is True


async def test_an_unmocked_http_node_is_refused_and_a_real_one_is_called_once(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    peer.route("/real", Reply(body={"real": True}))
    body = definition(
        nodes=[http_node("real", f"{peer.url}/real"), http_node("other", f"{peer.url}/other")],
        edges=[{"from": "real", "to": "other"}],
    )
    workflow = await create_workflow(http, editor, body)

    run = await run_as_test(http, editor, {"workflow_id": workflow["id"], "run_for_real": ["real"]})

    nodes = nodes_of(run)
    assert nodes["real"]["status"] == "succeeded"
    assert nodes["real"]["output"]["body"] == {"real": True}
    assert nodes["other"]["status"] == "failed"
    assert nodes["other"]["error"]["type"] == "NotMocked"
    assert "run_for_real" in nodes["other"]["error"]["message"]
    assert len(peer.hits("/real")) == 1
    assert peer.hits("/other") == []
    assert run["tested"]["real"]["mocked"] is False
    assert run["tested"]["other"]["refused"] is True


async def test_a_sequence_of_two_errors_then_an_output_succeeds_on_attempt_3(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    flaky = {
        **http_node("flaky", f"{peer.url}/flaky"),
        "retry": {"max_attempts": 3, "initial_interval": "100ms", "strategy": "fixed"},
    }
    workflow = await create_workflow(http, editor, definition(nodes=[flaky]))
    error = {"error": {"type": "HttpStatusError", "message": "503"}}

    run = await run_as_test(
        http,
        editor,
        {
            "workflow_id": workflow["id"],
            "mocks": {"flaky": {"sequence": [error, error, {"output": {"n": 3}}]}},
        },
    )

    node = nodes_of(run)["flaky"]
    assert run["status"] == "succeeded", run
    assert node["attempts"] == 3
    assert node["output"] == {"n": 3}
    assert peer.requests == []


async def test_mocks_reach_for_each_bodies_by_their_star_path(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    body = definition(
        nodes=[
            {
                "id": "loop",
                "type": "for_each",
                "config": {
                    "items": "input.ids",
                    "body": {
                        "nodes": [http_node("call", f"{peer.url}/item/{{{{ item }}}}")],
                        "output": "{{ nodes.call.output }}",
                    },
                },
            }
        ],
        output="{{ nodes.loop.output }}",
    )
    workflow = await create_workflow(http, editor, body)

    run = await run_as_test(
        http,
        editor,
        {
            "workflow_id": workflow["id"],
            "input": {"ids": [1, 2]},
            "mocks": {"loop[*].call": {"output": "mocked"}},
        },
    )

    assert run["status"] == "succeeded", run
    assert run["output"] == ["mocked", "mocked"]
    assert run["tested"]["loop[1].call"]["config"]["url"] == f"{peer.url}/item/2"
    assert peer.requests == []


async def test_unknown_or_pure_mock_keys_are_refused_by_path(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)

    response = await http.post(
        f"{API}/workflows/test",
        json={
            "workflow_id": workflow["id"],
            "mocks": {"nope": {"output": 1}, "greet": {"output": 2}},
            "run_for_real": ["missing"],
        },
        headers=editor.headers,
    )

    assert response.status_code == 422, response.text
    errors = {item["path"]: item["code"] for item in response.json()["errors"]}
    assert errors == {
        "/body/mocks/nope": "unknown_node",
        "/body/mocks/greet": "not_mockable",
        "/body/run_for_real/0": "unknown_node",
    }


async def test_test_runs_stay_out_of_metrics_failures_and_the_default_runs_list(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    failing = definition(nodes=[{"id": "boom", "type": "fail", "config": {"message": "no"}}])
    workflow = await create_workflow(http, editor, failing)
    real = await start_run(http, editor, workflow["id"])
    accepted = await http.post(
        f"{API}/workflows/test", json={"workflow_id": workflow["id"]}, headers=editor.headers
    )
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["test"] is True
    test_id = accepted.json()["run_id"]

    async def listed(**params: Any) -> list[str] | None:
        response = await http.get(
            f"{API}/runs", params={"workflow_id": workflow["id"], **params}, headers=editor.headers
        )
        assert response.status_code == 200, response.text
        ids = [item["run_id"] for item in response.json()["items"]]
        return ids or None

    assert await eventually(lambda: listed(test="true"), what="the test run listed") == [test_id]
    assert await eventually(listed, what="the real run listed") == [real]

    async def metrics() -> dict[str, Any] | None:
        response = await http.get(
            f"{API}/workflows/{workflow['id']}/metrics", headers=editor.headers
        )
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found if found["runs"]["running"] == 0 and found["scanned"] else None

    counted = await eventually(metrics, what="the real run's end in the metrics")
    assert counted["runs"]["total"] == 1
    assert counted["runs"]["failed"] == 1

    async def inbox() -> list[str] | None:
        response = await http.get(
            f"{API}/failures", params={"workflow_id": workflow["id"]}, headers=editor.headers
        )
        assert response.status_code == 200, response.text
        ids = [run_id for group in response.json()["groups"] for run_id in group["run_ids"]]
        return ids or None

    assert await eventually(inbox, what="the real run in the failures inbox") == [real]
    test_run = await http.get(f"{API}/runs/{test_id}", headers=editor.headers)
    assert test_run.status_code == 200, test_run.text
    assert test_run.json()["status"] == "failed"
    assert test_run.json()["trigger"] == "test"


async def test_a_test_run_deletes_the_owners_expired_test_run_rows(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, app_state: AppState
) -> None:
    workflow = await create_workflow(http, editor)
    old = datetime.now(UTC) - timedelta(seconds=app_state.settings.test_run_retention_seconds + 60)
    rows = {
        trigger: RunRecord(
            run_id=f"run-old-{trigger}-{uuid.uuid4().hex[:8]}",
            workflow_id=uuid.UUID(workflow["id"]),
            version=1,
            owner_id=uuid.UUID(editor.id),
            trigger=trigger,
            created_at=old,
        )
        for trigger in ("test", "api")
    }
    async with app_state.sessions() as session:
        session.add_all(rows.values())
        await session.commit()

    response = await http.post(
        f"{API}/workflows/test", json={"workflow_id": workflow["id"]}, headers=editor.headers
    )

    assert response.status_code == 202, response.text
    async with app_state.sessions() as session:
        assert await session.get(RunRecord, rows["test"].run_id) is None
        assert await session.get(RunRecord, rows["api"].run_id) is not None
        assert await session.get(RunRecord, response.json()["run_id"]) is not None


async def test_a_rerun_of_a_test_run_is_a_test_run_with_the_same_mocks(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    workflow = await create_workflow(
        http, editor, definition(nodes=[http_node("call", f"{peer.url}/call")])
    )
    first = await run_as_test(
        http, editor, {"workflow_id": workflow["id"], "mocks": {"call": {"output": 1}}}
    )

    response = await http.post(f"{API}/runs/{first['run_id']}/rerun", headers=editor.headers)

    assert response.status_code == 202, response.text
    rerun = await run_becomes(http, editor, response.json()["run_id"], "succeeded")
    assert rerun["trigger"] == "test"
    assert rerun["rerun_of"] == first["run_id"]
    assert nodes_of(rerun)["call"]["output"] == 1
    assert peer.requests == []


async def test_a_bare_definition_is_tested_as_its_starters_run_of_no_workflow(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    other_editor: Actor,
    admin: Actor,
    peer: Peer,
    app_state: AppState,
) -> None:
    # The starter's expired bare test row goes at their next test run, as any test row.
    old = datetime.now(UTC) - timedelta(seconds=app_state.settings.test_run_retention_seconds + 60)
    expired = RunRecord(
        run_id=f"run-old-bare-{uuid.uuid4().hex[:8]}",
        workflow_id=None,
        version=1,
        owner_id=uuid.UUID(editor.id),
        trigger="test",
        created_at=old,
    )
    async with app_state.sessions() as session:
        session.add(expired)
        await session.commit()
    body = definition(
        nodes=[
            http_node("fetch", f"{peer.url}/users/{{{{ input.id }}}}"),
            {"id": "name", "type": "transform", "config": {"value": "{{ nodes.fetch.output }}"}},
        ],
        edges=[{"from": "fetch", "to": "name"}],
        output="{{ nodes.name.output }}",
    )

    run = await run_as_test(
        http,
        editor,
        {"definition": body, "input": {"id": 3}, "mocks": {"fetch": {"output": "Ada"}}},
    )

    assert run["status"] == "succeeded", run
    assert run["output"] == "Ada"
    assert run["workflow_id"] is None
    assert run["version"] == 1
    assert run["owner_id"] == editor.id
    assert run["tested"]["fetch"]["config"]["url"] == f"{peer.url}/users/3"
    assert [(e["source"], e["target"], e["taken"]) for e in run["edges"]] == [
        ("fetch", "name", True)
    ]
    assert peer.requests == []
    run_id = run["run_id"]
    async with app_state.sessions() as session:
        assert await session.get(RunRecord, expired.run_id) is None
        record = await session.get(RunRecord, run_id)
        assert record is not None
        assert record.workflow_id is None
        assert str(record.owner_id) == editor.id
        assert record.trigger == "test"

    # Its starter and admins read it; another editor does not even learn it exists.
    assert (await http.get(f"{API}/runs/{run_id}", headers=admin.headers)).status_code == 200
    hidden = await http.get(f"{API}/runs/{run_id}", headers=other_editor.headers)
    assert hidden.status_code == 404, hidden.text

    async def listed(actor: Actor, **params: Any) -> list[str]:
        response = await http.get(f"{API}/runs", params=params, headers=actor.headers)
        assert response.status_code == 200, response.text
        return [item["run_id"] for item in response.json()["items"]]

    async def in_test_list() -> bool | None:
        return True if run_id in await listed(editor, test="true") else None

    await eventually(in_test_list, what="the bare test run in the test runs list")
    assert run_id not in await listed(editor)
    assert run_id not in await listed(other_editor, test="true")

    # Nothing stored to run again: the rerun says to test the definition again.
    rerun = await http.post(f"{API}/runs/{run_id}/rerun", headers=editor.headers)
    assert rerun.status_code == 409, rerun.text
    assert "never saved" in rerun.json()["detail"]


async def test_a_test_body_without_a_workflow_or_a_definition_is_refused_by_path(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    async def refused(body: dict[str, Any]) -> dict[str, str]:
        response = await http.post(f"{API}/workflows/test", json=body, headers=editor.headers)
        assert response.status_code == 422, response.text
        return {item["path"]: item["code"] for item in response.json()["errors"]}

    assert await refused({}) == {"/body/workflow_id": "missing"}
    assert await refused({"input": {"a": 1}, "mocks": {}}) == {"/body/workflow_id": "missing"}
    assert await refused({"definition": definition(), "version": 2}) == {
        "/body/version": "conflict"
    }
    schema = {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}
    bad_input = await refused({"definition": definition(input_schema=schema), "input": {"id": "x"}})
    assert list(bad_input) == ["/body/input/id"]
    bad_mock = await refused({"definition": definition(), "mocks": {"nope": {"output": 1}}})
    assert bad_mock == {"/body/mocks/nope": "unknown_node"}
    broken = await refused({"definition": {"name": "x", "nodes": [{"id": "a", "type": "nope"}]}})
    assert all(path.startswith("/body/definition") for path in broken), broken


async def test_the_report_lists_for_each_body_edges_by_item_path(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    body = definition(
        nodes=[
            {
                "id": "loop",
                "type": "for_each",
                "config": {
                    "items": "input.ids",
                    "body": {
                        "nodes": [
                            {**http_node("a", f"{peer.url}/a"), "retry": {"strategy": "none"}},
                            {"id": "b", "type": "transform", "config": {"value": "ok"}},
                            {"id": "c", "type": "transform", "config": {"value": "handled"}},
                        ],
                        "edges": [
                            {"from": "a", "to": "b"},
                            {"from": "a", "to": "c", "on": "failure"},
                        ],
                        "output": "{{ item }}",
                    },
                },
            },
            {"id": "after", "type": "transform", "config": {"value": "done"}},
        ],
        edges=[{"from": "loop", "to": "after"}],
    )

    run = await run_as_test(
        http,
        editor,
        {
            "definition": body,
            "input": {"ids": [1, 2]},
            "mocks": {
                "loop[*].a": {"output": 1},
                "loop[1].a": {"error": {"type": "Boom", "message": "no"}},
            },
        },
    )

    assert run["status"] == "succeeded", run
    edges = {(edge["source"], edge["target"]): edge for edge in run["edges"]}
    assert list(edges) == [
        ("loop", "after"),
        ("loop[0].a", "loop[0].b"),
        ("loop[0].a", "loop[0].c"),
        ("loop[1].a", "loop[1].b"),
        ("loop[1].a", "loop[1].c"),
    ]
    assert edges["loop[0].a", "loop[0].b"]["taken"] is True
    why = "loop[0].a succeeded, which `on: success` follows"
    assert edges["loop[0].a", "loop[0].b"]["why"] == why
    assert edges["loop[0].a", "loop[0].c"]["taken"] is False
    assert edges["loop[1].a", "loop[1].b"]["taken"] is False
    assert edges["loop[1].a", "loop[1].b"]["why"] == "loop[1].a failed; the edge follows on success"
    assert edges["loop[1].a", "loop[1].c"]["taken"] is True
    assert peer.requests == []


async def test_body_edges_past_the_reports_limit_are_counted_not_listed(
    http: httpx.AsyncClient,
    worker: Worker,
    editor: Actor,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(settings.run, "test_report_max_edges", 3)
    body = definition(
        nodes=[
            {
                "id": "loop",
                "type": "for_each",
                "config": {
                    "items": "input.ids",
                    "max_concurrency": 1,
                    "body": {
                        "nodes": [
                            {"id": "a", "type": "transform", "config": {"value": 1}},
                            {"id": "b", "type": "transform", "config": {"value": 2}},
                            {"id": "c", "type": "transform", "config": {"value": 3}},
                        ],
                        "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "c"}],
                        "output": "{{ item }}",
                    },
                },
            }
        ],
    )

    run = await run_as_test(http, editor, {"definition": body, "input": {"ids": [1, 2, 3]}})

    assert run["status"] == "succeeded", run
    assert [(e["source"], e["target"]) for e in run["edges"]] == [
        ("loop[0].a", "loop[0].b"),
        ("loop[0].b", "loop[0].c"),
        ("loop[1].a", "loop[1].b"),
    ]
    assert run["edges_left_off"] == 3
