"""sub_workflow targets: checked at save time, pinned at run start, run end to end."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from temporalio.worker import Worker

from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    node_status,
    run_becomes,
    run_of,
    send_signal,
)
from tests.support.eventually import eventually


def multiplier(factor: int) -> dict[str, Any]:
    """A child workflow: ``input.n * factor``."""
    return definition(
        nodes=[
            {
                "id": "times",
                "type": "transform",
                "config": {"value": f"{{{{ input.n * {factor} }}}}"},
            }
        ],
        output="{{ nodes.times.output }}",
    )


def calling(workflow_id: str, version: int | None = None, **extra: Any) -> dict[str, Any]:
    """A parent with one sub_workflow node ``call`` passing ``n`` on."""
    config: dict[str, Any] = {"workflow_id": workflow_id, "input": {"n": "{{ input.n }}"}}
    if version is not None:
        config["version"] = version
    return definition(
        nodes=[{"id": "call", "type": "sub_workflow", "config": config}],
        output="{{ nodes.call.output }}",
        **extra,
    )


async def run(http: httpx.AsyncClient, actor: Actor, workflow_id: str, n: int) -> httpx.Response:
    return await http.post(
        f"{API}/workflows/{workflow_id}/runs", json={"input": {"n": n}}, headers=actor.headers
    )


async def put(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, body: dict[str, Any]
) -> httpx.Response:
    return await http.put(
        f"{API}/workflows/{workflow_id}", json={"definition": body}, headers=actor.headers
    )


async def finished_output(http: httpx.AsyncClient, actor: Actor, response: httpx.Response) -> Any:
    assert response.status_code == 202, response.text
    return (await run_becomes(http, actor, response.json()["run_id"], "succeeded"))["output"]


async def test_a_parent_runs_the_version_it_names_or_the_active_one(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    child = await create_workflow(http, editor, multiplier(2))
    assert (await put(http, editor, child["id"], multiplier(3))).status_code == 200
    pinned = await create_workflow(http, editor, calling(child["id"], version=1))
    active = await create_workflow(http, editor, calling(child["id"]))
    assert await finished_output(http, editor, await run(http, editor, pinned["id"], 21)) == 42
    assert await finished_output(http, editor, await run(http, editor, active["id"], 21)) == 63


async def test_the_child_is_pinned_when_the_parent_starts(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    child = await create_workflow(http, editor, multiplier(2))
    parent = definition(
        nodes=[
            {"id": "go", "type": "wait_for_signal", "config": {"signal": "go"}},
            {
                "id": "call",
                "type": "sub_workflow",
                "config": {"workflow_id": child["id"], "input": {"n": 5}},
            },
        ],
        edges=[{"from": "go", "to": "call"}],
        output="{{ nodes.call.output }}",
    )
    run_id = await run_of(http, editor, parent)

    async def waiting() -> bool | None:
        return True if await node_status(http, editor, run_id, "go") == "waiting" else None

    await eventually(waiting, what="the parent to wait")
    # A new active version of the child after the start does not change this run.
    assert (await put(http, editor, child["id"], multiplier(100))).status_code == 200
    assert (await send_signal(http, editor, run_id, "go", None)).status_code == 202
    assert (await run_becomes(http, editor, run_id, "succeeded"))["output"] == 10


async def test_sub_workflows_inside_for_each_bodies_are_pinned(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    child = await create_workflow(http, editor, multiplier(10))
    parent = definition(
        nodes=[
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "[1, 2, 3]",
                    "body": {
                        "nodes": [
                            {
                                "id": "call",
                                "type": "sub_workflow",
                                "config": {
                                    "workflow_id": child["id"],
                                    "input": {"n": "{{ item }}"},
                                },
                            }
                        ],
                        "output": "{{ nodes.call.output }}",
                    },
                },
            }
        ],
        output="{{ nodes.each.output }}",
    )
    created = await create_workflow(http, editor, parent)
    assert await finished_output(http, editor, await run(http, editor, created["id"], 0)) == [
        10,
        20,
        30,
    ]


async def _refused_at_save(
    http: httpx.AsyncClient, actor: Actor, body: dict[str, Any]
) -> list[dict[str, Any]]:
    response = await http.post(f"{API}/workflows", json={"definition": body}, headers=actor.headers)
    assert response.status_code == 422, response.text
    errors: list[dict[str, Any]] = response.json()["errors"]
    assert {e["code"] for e in errors} == {"unknown_reference"}
    return errors


async def test_targets_are_checked_at_save_time(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor
) -> None:
    missing = str(uuid.uuid4())
    errors = await _refused_at_save(http, editor, calling(missing))
    assert errors[0]["path"] == "/nodes/0/config/workflow_id"
    assert missing in errors[0]["message"]
    assert "'call'" in errors[0]["message"]

    await _refused_at_save(http, editor, calling("not-a-workflow-id"))
    templated = await _refused_at_save(http, editor, calling("{{ input.target }}"))
    assert "template" in templated[0]["message"]

    theirs = await create_workflow(http, other_editor, multiplier(2))
    await _refused_at_save(http, editor, calling(theirs["id"]))

    mine = await create_workflow(http, editor, multiplier(2))
    no_version = await _refused_at_save(http, editor, calling(mine["id"], version=9))
    assert no_version[0]["path"] == "/nodes/0/config/version"

    in_body = definition(
        nodes=[
            {
                "id": "each",
                "type": "for_each",
                "config": {
                    "items": "[1]",
                    "body": {
                        "nodes": [
                            {
                                "id": "call",
                                "type": "sub_workflow",
                                "config": {"workflow_id": missing},
                            }
                        ]
                    },
                },
            }
        ]
    )
    nested = await _refused_at_save(http, editor, in_body)
    assert nested[0]["path"] == "/nodes/0/config/body/nodes/0/config/workflow_id"
    assert "each[*].call" in nested[0]["message"]

    # A new version is checked too, and /validate reports the same problem.
    refused = await put(http, editor, mine["id"], calling(missing))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "unknown_reference"
    report = await http.post(
        f"{API}/workflows/validate", json={"definition": calling(missing)}, headers=editor.headers
    )
    assert report.json()["valid"] is False
    assert report.json()["errors"][0]["path"] == "/nodes/0/config/workflow_id"


async def test_a_target_gone_since_saving_is_422_at_start(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    child = await create_workflow(http, editor, multiplier(2))
    parent = await create_workflow(http, editor, calling(child["id"]))
    assert (
        await http.delete(f"{API}/workflows/{child['id']}", headers=editor.headers)
    ).status_code == 204
    response = await run(http, editor, parent["id"], 1)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert "'call'" in detail
    assert child["id"] in detail
    assert response.json()["errors"][0]["path"] == "/nodes/0/config/workflow_id"


async def test_cycles_are_refused_at_start(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    first = await create_workflow(http, editor, multiplier(2))
    second = await create_workflow(http, editor, calling(first["id"]))
    assert (await put(http, editor, first["id"], calling(second["id"]))).status_code == 200
    response = await run(http, editor, first["id"], 1)
    assert response.status_code == 422, response.text
    assert "cycle" in response.json()["detail"]
    assert "call > call" in response.json()["detail"]

    itself = await create_workflow(http, editor, multiplier(2))
    assert (await put(http, editor, itself["id"], calling(itself["id"]))).status_code == 200
    response = await run(http, editor, itself["id"], 1)
    assert response.status_code == 422
    assert "cycle" in response.json()["detail"]


async def test_nesting_is_limited(http: httpx.AsyncClient, worker: Worker, editor: Actor) -> None:
    chain = [await create_workflow(http, editor, multiplier(1))]
    for _ in range(6):
        chain.append(await create_workflow(http, editor, calling(chain[-1]["id"])))
    # chain[5] nests 5 levels (the server's default limit), chain[6] nests 6.
    too_deep = await run(http, editor, chain[6]["id"], 1)
    assert too_deep.status_code == 422, too_deep.text
    assert "more than 5 levels" in too_deep.json()["detail"]
    assert await finished_output(http, editor, await run(http, editor, chain[5]["id"], 7)) == 7


async def test_whose_workflows_a_run_may_call(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, other_editor: Actor, admin: Actor
) -> None:
    child = await create_workflow(http, editor, multiplier(2))
    parent = await create_workflow(http, editor, calling(child["id"]))
    # Another user's parent: not visible, and it cannot name the child either.
    assert (await run(http, other_editor, parent["id"], 1)).status_code == 404
    await _refused_at_save(http, other_editor, calling(child["id"]))
    # An admin may read every workflow, so an admin's workflow may call it.
    admins = await create_workflow(http, admin, calling(child["id"]))
    assert await finished_output(http, admin, await run(http, admin, admins["id"], 4)) == 8


async def test_a_child_run_is_read_through_its_tilde_alias_by_its_owner_only(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, other_editor: Actor
) -> None:
    child = await create_workflow(http, editor, multiplier(2))
    parent = await create_workflow(http, editor, calling(child["id"]))
    response = await run(http, editor, parent["id"], 21)
    assert await finished_output(http, editor, response) == 42
    parent_id = response.json()["run_id"]
    alias = f"{parent_id}~call"

    shown = await http.get(f"{API}/runs/{alias}", headers=editor.headers)
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["run_id"] == f"{parent_id}/call"
    assert body["output"] == 42
    assert body["dashboard_url"].endswith(f"/ui/runs/{alias}")
    times = await http.get(f"{API}/runs/{alias}/nodes/times", headers=editor.headers)
    assert times.status_code == 200, times.text
    assert times.json()["output"] == 42
    whole = await http.get(f"{API}/runs/{alias}/output", headers=editor.headers)
    assert whole.status_code == 200, whole.text
    assert whole.json() == 42
    parent_url = (await http.get(f"{API}/runs/{parent_id}", headers=editor.headers)).json()
    assert parent_url["dashboard_url"].endswith(f"/ui/runs/{parent_id}")

    # The alias reaches the same owner check as any run id: another user sees no such run.
    hidden = await http.get(f"{API}/runs/{alias}", headers=other_editor.headers)
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == f"run {parent_id}/call not found"
    # A slash, even percent-encoded, is no way in: the path is decoded before routing.
    assert (
        await http.get(f"{API}/runs/{parent_id}%2Fcall", headers=editor.headers)
    ).status_code == 404
