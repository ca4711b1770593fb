"""Events: one run of every matching workflow, once per Idempotency-Key."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from app.core.state import AppState
from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    slowest_health_check,
    store_unchecked,
)
from tests.support.peer import Peer, Reply


def _listening(event: str, **extra: Any) -> dict[str, Any]:
    return definition(triggers=[{"type": "event", "event": event}], **extra)


async def _send(
    http: httpx.AsyncClient, actor: Actor, event: str, payload: Any, key: str | None = None
) -> httpx.Response:
    headers = {**actor.headers, **({"Idempotency-Key": key} if key else {})}
    return await http.post(
        f"{API}/events", json={"type": event, "payload": payload}, headers=headers
    )


async def test_an_event_starts_every_matching_workflow_of_the_caller(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor
) -> None:
    event = f"lead.qualified.{uuid.uuid4().hex[:8]}"
    first = await create_workflow(http, editor, _listening(event))
    second = await create_workflow(http, editor, _listening(event))
    await create_workflow(http, editor, _listening(f"{event}.other"))
    await create_workflow(http, other_editor, _listening(event))
    deleted = await create_workflow(http, editor, _listening(event))
    await http.delete(f"{API}/workflows/{deleted['id']}", headers=editor.headers)
    # A newer version without the trigger is active: the workflow no longer listens.
    moved = await create_workflow(http, editor, _listening(event))
    await http.put(
        f"{API}/workflows/{moved['id']}",
        json={"definition": definition(name=moved["name"])},
        headers=editor.headers,
    )

    response = await _send(http, editor, event, {"lead": 1})
    assert response.status_code == 202, response.text
    runs = response.json()["runs"]
    assert sorted(r["workflow_id"] for r in runs) == sorted([first["id"], second["id"]])
    for run in runs:
        detail = (await http.get(f"{API}/runs/{run['run_id']}", headers=editor.headers)).json()
        assert (detail["input"], detail["trigger"]) == ({"lead": 1}, "event")

    nothing = await _send(http, editor, f"{event}.unheard", {})
    assert (nothing.status_code, nothing.json()["runs"]) == (202, [])


async def test_an_idempotency_key_fans_out_once(http: httpx.AsyncClient, editor: Actor) -> None:
    event = f"order.placed.{uuid.uuid4().hex[:8]}"
    for _ in range(2):
        await create_workflow(http, editor, _listening(event))
    key = f"evt-{uuid.uuid4().hex}"
    first = await _send(http, editor, event, {"n": 1}, key)
    again = await _send(http, editor, event, {"n": 1}, key)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["runs"] == again.json()["runs"]
    other = await _send(http, editor, event, {"n": 1}, f"evt-{uuid.uuid4().hex}")
    assert other.status_code == 202
    assert not {r["run_id"] for r in other.json()["runs"]} & {
        r["run_id"] for r in first.json()["runs"]
    }


async def test_an_idempotency_key_with_another_payload_is_422(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    event = f"order.placed.{uuid.uuid4().hex[:8]}"
    await create_workflow(http, editor, _listening(event))
    key = f"evt-{uuid.uuid4().hex}"
    assert (await _send(http, editor, event, {"n": 1}, key)).status_code == 202
    other = await _send(http, editor, event, {"n": 2}, key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["code"] == "idempotency_key_reused"


async def test_a_workflow_whose_schema_the_payload_breaks_is_skipped(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    event = f"user.signed_up.{uuid.uuid4().hex[:8]}"
    strict = await create_workflow(
        http, editor, _listening(event, input_schema={"type": "object", "required": ["email"]})
    )
    lenient = await create_workflow(http, editor, _listening(event))
    response = await _send(http, editor, event, {"name": "x"})
    assert response.status_code == 202
    body = response.json()
    assert [r["workflow_id"] for r in body["runs"]] == [lenient["id"]]
    assert [s["workflow_id"] for s in body["skipped"]] == [strict["id"]]
    assert "input_schema" in body["skipped"][0]["detail"]


async def test_an_admin_reaches_everyone_and_a_viewer_may_not_send(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor, admin: Actor, viewer: Actor
) -> None:
    event = f"audit.{uuid.uuid4().hex[:8]}"
    mine = await create_workflow(http, editor, _listening(event))
    theirs = await create_workflow(http, other_editor, _listening(event))
    response = await _send(http, admin, event, {})
    assert sorted(r["workflow_id"] for r in response.json()["runs"]) == sorted(
        [mine["id"], theirs["id"]]
    )
    refused = await _send(http, viewer, event, {})
    assert refused.status_code == 403
    bad = await http.post(f"{API}/events", json={"type": "has space"}, headers=editor.headers)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "/body/type"


async def test_an_event_cannot_make_the_api_fetch_a_stored_schema_ref(
    http: httpx.AsyncClient, app_state: AppState, editor: Actor, peer: Peer
) -> None:
    peer.route("/schema.json", Reply(body={"type": "object"}, delay=5.0))
    event = f"lead.ref.{uuid.uuid4().hex[:8]}"
    body = _listening(event, input_schema={"$ref": f"{peer.url}/schema.json"})
    workflow_id = await store_unchecked(app_state, editor, body)

    slowest, response = await slowest_health_check(http, _send(http, editor, event, {"n": 1}))

    assert response.status_code == 202, response.text
    skipped = response.json()["skipped"]
    assert [s["workflow_id"] for s in skipped] == [workflow_id]
    assert "input_schema" in skipped[0]["detail"]
    assert slowest < 1.0
    assert peer.requests == []
