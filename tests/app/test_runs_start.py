"""Starting runs: input checks, versions, idempotency keys."""

from __future__ import annotations

import time
import uuid

import httpx
from sqlmodel import select
from temporalio.client import Client

from app.core.state import AppState
from app.db.models.run import RunRecord
from app.runs.quotas import in_flight_query
from app.settings import Settings
from interpreter.contract import search_attributes as sa
from tests.support.api import (
    API,
    Actor,
    MakeUser,
    create_workflow,
    definition,
    quota_api,
    slowest_health_check,
    store_unchecked,
    waiting_definition,
)
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply

SCHEMA = {
    "type": "object",
    "required": ["lead_id", "score"],
    "properties": {
        "lead_id": {"type": "string"},
        "score": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}},
    },
}


async def test_start_answers_202_and_the_run_is_in_temporal(
    http: httpx.AsyncClient, app_state: AppState, temporal_client: Client, editor: Actor
) -> None:
    created = await create_workflow(http, editor, waiting_definition())
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={"input": {"x": 1}}, headers=editor.headers
    )
    assert response.status_code == 202, response.text
    run = response.json()
    assert run["status"] == "running"
    assert (run["workflow_id"], run["version"]) == (created["id"], 1)
    assert run["temporal"]["workflow_id"] == run["run_id"]
    assert run["temporal"]["ui_url"].endswith(
        f"/namespaces/default/workflows/{run['run_id']}/{run['temporal']['run_id']}/history"
    )
    description = await temporal_client.get_workflow_handle(run["run_id"]).describe()
    attrs = description.typed_search_attributes
    assert attrs.get(sa.WORKFLOW_ID) == created["id"]
    assert attrs.get(sa.OWNER) == editor.id
    assert attrs.get(sa.TRIGGER) == "api"
    assert description.task_queue == app_state.settings.task_queue
    async with app_state.sessions() as session:
        record = await session.get(RunRecord, run["run_id"])
    assert record is not None
    assert str(record.owner_id) == editor.id


async def test_input_violating_the_schema_is_422_listing_every_violation(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await create_workflow(http, editor, definition(input_schema=SCHEMA))
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs",
        json={"input": {"score": -1, "tags": ["a", 2]}},
        headers=editor.headers,
    )
    assert response.status_code == 422
    errors = {(e["path"], e["code"]) for e in response.json()["errors"]}
    assert errors == {("", "required"), ("/score", "minimum"), ("/tags/1", "type")}
    assert "input_schema" in response.json()["detail"]


async def test_valid_input_starts(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor, definition(input_schema=SCHEMA))
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs",
        json={"input": {"lead_id": "L1", "score": 90}},
        headers=editor.headers,
    )
    assert response.status_code == 202


async def test_a_given_version_is_used(
    http: httpx.AsyncClient, temporal_client: Client, editor: Actor
) -> None:
    created = await create_workflow(http, editor)
    await http.put(
        f"{API}/workflows/{created['id']}",
        json={"definition": definition(name=created["name"], description="v2")},
        headers=editor.headers,
    )
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={"version": 1}, headers=editor.headers
    )
    assert response.json()["version"] == 1
    description = await temporal_client.get_workflow_handle(response.json()["run_id"]).describe()
    assert description.typed_search_attributes.get(sa.VERSION) == 1
    missing = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={"version": 9}, headers=editor.headers
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["path"] == "/version"


async def test_same_idempotency_key_returns_the_same_run(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor
) -> None:
    created = await create_workflow(http, editor, waiting_definition())
    url = f"{API}/workflows/{created['id']}/runs"
    headers = {**editor.headers, "Idempotency-Key": "order-42"}
    first = await http.post(url, json={"input": {}}, headers=headers)
    second = await http.post(url, json={"input": {}}, headers=headers)
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["run_id"] == second.json()["run_id"]
    assert second.json()["status"] == "running"
    other = await http.post(url, json={"input": {}}, headers={**headers, "Idempotency-Key": "43"})
    assert other.status_code == 202
    assert other.json()["run_id"] != first.json()["run_id"]
    async with app_state.sessions() as session:
        rows = (
            await session.exec(select(RunRecord).where(RunRecord.workflow_id == created["id"]))
        ).all()
    assert sorted(r.idempotency_key or "" for r in rows) == ["43", "order-42"]


async def test_the_same_key_with_another_input_is_422_naming_the_first_run(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    created = await create_workflow(http, editor, waiting_definition())
    url = f"{API}/workflows/{created['id']}/runs"
    headers = {**editor.headers, "Idempotency-Key": f"order-{uuid.uuid4().hex}"}
    first = await http.post(url, json={"input": {"amount": 10, "currency": "EUR"}}, headers=headers)
    assert first.status_code == 202, first.text

    other = await http.post(url, json={"input": {"amount": 99}}, headers=headers)

    assert other.status_code == 422
    assert first.json()["run_id"] in other.json()["detail"]
    [error] = other.json()["errors"]
    assert (error["path"], error["code"]) == ("/header/idempotency-key", "idempotency_key_reused")
    # The same input, keys reordered, is the same start.
    same = await http.post(url, json={"input": {"currency": "EUR", "amount": 10}}, headers=headers)
    assert (same.status_code, same.json()["run_id"]) == (200, first.json()["run_id"])


async def test_same_key_for_another_workflow_is_another_run(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    runs = []
    for _ in range(2):
        created = await create_workflow(http, editor, waiting_definition())
        response = await http.post(
            f"{API}/workflows/{created['id']}/runs",
            json={},
            headers={**editor.headers, "Idempotency-Key": "shared-key"},
        )
        assert response.status_code == 202
        runs.append(response.json()["run_id"])
    assert runs[0] != runs[1]


async def test_bad_idempotency_key_is_422(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs",
        json={},
        headers={**editor.headers, "Idempotency-Key": "x" * 201},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/header/idempotency-key"


async def test_unknown_body_fields_are_422(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={"inputs": {}}, headers=editor.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/body/inputs"


async def test_deleted_workflow_starts_nothing(http: httpx.AsyncClient, editor: Actor) -> None:
    created = await create_workflow(http, editor)
    await http.delete(f"{API}/workflows/{created['id']}", headers=editor.headers)
    response = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={}, headers=editor.headers
    )
    assert response.status_code == 404


async def test_a_stored_input_schema_cannot_make_a_run_start_fetch_its_ref(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor, peer: Peer
) -> None:
    peer.route("/schema.json", Reply(body={"type": "object"}, delay=5.0))
    # "file://" to a file that is not a schema object answered 500 before.
    for ref in (f"{peer.url}/schema.json", "file:///etc/hostname"):
        body = definition(input_schema={"properties": {"x": {"$ref": ref}}})
        workflow_id = await store_unchecked(app_state, editor, body)
        start = http.post(
            f"{API}/workflows/{workflow_id}/runs", json={"input": {"x": 1}}, headers=editor.headers
        )
        slowest, response = await slowest_health_check(http, start)

        assert response.status_code == 422, response.text
        assert "input_schema cannot be applied" in response.text
        assert "/properties/x/$ref" in response.text
        assert "only local references (#...)" in response.text
        assert slowest < 1.0
    assert peer.requests == []


async def _start(http: httpx.AsyncClient, actor: Actor, workflow_id: str) -> httpx.Response:
    return await http.post(f"{API}/workflows/{workflow_id}/runs", json={}, headers=actor.headers)


async def test_an_owner_cannot_start_more_runs_per_minute_than_the_quota(
    http: httpx.AsyncClient, settings: Settings, make_user: MakeUser, admin: Actor
) -> None:
    async with quota_api(settings, quota_run_starts_per_minute=3) as limited:
        while True:
            owner, other = await make_user("editor"), await make_user("editor")
            mine = await create_workflow(http, owner, waiting_definition())
            minute = time.time() // 60
            answers = [await _start(limited, owner, mine["id"]) for _ in range(4)]
            if time.time() // 60 == minute:
                break  # else the window turned over meanwhile: count again in one minute
        assert [a.status_code for a in answers] == [202, 202, 202, 429]
        refused = answers[-1]
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        assert "FLOWFORGE_QUOTA_RUN_STARTS_PER_MINUTE" in refused.text
        assert "3 runs this minute" in refused.json()["detail"]
        theirs = await create_workflow(http, other, waiting_definition())
        assert (await _start(limited, other, theirs["id"])).status_code == 202
        admins = await create_workflow(http, admin, waiting_definition())
        for _ in range(4):
            assert (await _start(limited, admin, admins["id"])).status_code == 202


async def test_an_owner_cannot_keep_more_runs_in_flight_than_the_quota(
    http: httpx.AsyncClient,
    settings: Settings,
    temporal_client: Client,
    make_user: MakeUser,
) -> None:
    owner, other = await make_user("editor"), await make_user("editor")
    async with quota_api(settings, quota_runs_in_flight=2) as limited:
        mine = await create_workflow(http, owner, waiting_definition())
        first = (await _start(limited, owner, mine["id"])).json()["run_id"]
        assert (await _start(limited, owner, mine["id"])).status_code == 202
        query = in_flight_query(uuid.UUID(owner.id))

        async def in_flight(count: int) -> bool:
            return (await temporal_client.count_workflows(query)).count == count

        await eventually(lambda: in_flight(2), what="both runs in visibility")
        refused = await _start(limited, owner, mine["id"])
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert "FLOWFORGE_QUOTA_RUNS_IN_FLIGHT" in refused.text
        assert "the limit is 2" in refused.json()["detail"]

        theirs = await create_workflow(http, other, waiting_definition())
        assert (await _start(limited, other, theirs["id"])).status_code == 202

        ended = await limited.post(f"{API}/runs/{first}/terminate", json={}, headers=owner.headers)
        assert ended.status_code == 202, ended.text
        await eventually(lambda: in_flight(1), what="the terminated run out of flight")
        assert (await _start(limited, owner, mine["id"])).status_code == 202
