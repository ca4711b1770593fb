"""Workflows pause and resume as a whole, carry tags, are searched, and declare working triggers."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from app.triggers.hook_signature import sign
from tests.support.api import API, Actor, create_workflow, definition, waiting_definition
from tests.support.eventually import eventually


async def _patch(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, **body: Any
) -> httpx.Response:
    return await http.patch(f"{API}/workflows/{workflow_id}", json=body, headers=actor.headers)


async def test_tags_description_and_category_are_set_and_searched(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    marker = uuid.uuid4().hex[:8]
    billing = await create_workflow(http, editor, definition(f"billing-{marker}"))
    other = await create_workflow(http, editor, definition(f"other-{marker}"))

    changed = await _patch(
        http, editor, billing["id"], tags=["team:pay", "nightly", "nightly"],
        description=f"charges cards {marker}", category="finance",
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    assert changed.json()["tags"] == ["nightly", "team:pay"]
    assert changed.json()["category"] == "finance"
    await _patch(http, editor, other["id"], tags=["nightly"])

    async def names(**params: Any) -> list[str]:
        page = await http.get(f"{API}/workflows", params=params, headers=editor.headers)
        assert page.status_code == 200, page.text
        return sorted(w["name"] for w in page.json()["items"] if marker in w["name"])

    assert await names(tag="nightly") == [f"billing-{marker}", f"other-{marker}"]
    assert await names(tag=["nightly", "team:pay"]) == [f"billing-{marker}"]
    assert await names(q=f"CHARGES cards {marker}") == [f"billing-{marker}"]
    assert await names(q=f"other-{marker}") == [f"other-{marker}"]
    bad = await _patch(http, editor, billing["id"], tags=["has space"])
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["path"] == "/body/tags/0"
    cleared = await _patch(http, editor, billing["id"], tags=[], category=None)
    assert (cleared.json()["tags"], cleared.json()["category"]) == ([], None)


async def test_a_paused_workflow_starts_nothing_and_resuming_restores_what_was_on(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    event = f"order.paid.{uuid.uuid4().hex[:8]}"
    body = waiting_definition() | {"triggers": [{"type": "event", "event": event}]}
    workflow = await create_workflow(http, editor, body)
    wid = workflow["id"]
    schedules = []
    for paused in (False, True):
        made = await http.post(
            f"{API}/workflows/{wid}/schedules",
            json={"interval": "1h", "paused": paused},
            headers=editor.headers,
        )
        assert made.status_code == 201, made.text
        schedules.append(made.json()["schedule_id"])
    on, off = schedules

    async def both_listed() -> bool | None:
        page = await http.get(f"{API}/workflows/{wid}/schedules", headers=editor.headers)
        return True if len(page.json()["items"]) == 2 else None

    await eventually(both_listed, what="both schedules listed")
    hook = await http.post(f"{API}/workflows/{wid}/webhooks", headers=editor.headers)
    hook_path, secret = httpx.URL(hook.json()["url"]).path, hook.json()["secret"]

    pausing = await _patch(http, editor, wid, status="paused")
    assert pausing.status_code == 200, pausing.text
    assert pausing.json()["status"] == "paused"

    start = await http.post(f"{API}/workflows/{wid}/runs", json={}, headers=editor.headers)
    assert start.status_code == 409
    assert "is paused" in start.json()["detail"]
    schedule = (await http.get(f"{API}/schedules/{on}", headers=editor.headers)).json()
    assert schedule["paused"] is True
    payload = json.dumps({"n": 1}).encode()
    stamp = str(int(time.time()))
    delivery = await http.post(
        hook_path,
        content=payload,
        headers={
            "Content-Type": "application/json",
            "X-Timestamp": stamp,
            "X-Signature": sign(secret, payload, stamp, None),
        },
    )
    assert delivery.status_code == 423, delivery.text
    sent = await http.post(
        f"{API}/events", json={"type": event, "payload": {}}, headers=editor.headers
    )
    assert sent.json()["runs"] == []
    assert "is paused" in sent.json()["skipped"][0]["detail"]
    listed = await http.get(f"{API}/workflows", params={"status": "paused"}, headers=editor.headers)
    assert wid in [w["id"] for w in listed.json()["items"]]

    resumed = await _patch(http, editor, wid, status="active")
    assert resumed.json()["status"] == "active"
    states = {
        sid: (await http.get(f"{API}/schedules/{sid}", headers=editor.headers)).json()["paused"]
        for sid in (on, off)
    }
    assert states == {on: False, off: True}
    again = await http.post(f"{API}/workflows/{wid}/runs", json={}, headers=editor.headers)
    assert again.status_code == 202, again.text


async def test_only_triggers_that_take_effect_are_accepted(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    triggers = [
        {"type": "schedule", "cron": "*/5 * * * *"},
        {"type": "webhook"},
        {"type": "evnt", "event": "x"},
        {"type": "event"},
    ]
    answer = await http.post(
        f"{API}/workflows",
        json={"definition": definition(triggers=triggers)},
        headers=editor.headers,
    )
    assert answer.status_code == 422
    errors = {e["path"]: e for e in answer.json()["errors"]}
    assert "POST /workflows/{id}/schedules" in errors["/triggers/0/type"]["message"]
    assert errors["/triggers/0/type"]["code"] == "unsupported_trigger"
    assert "POST /workflows/{id}/webhooks" in errors["/triggers/1/type"]["message"]
    assert "did you mean 'event'?" in errors["/triggers/2/type"]["message"]
    assert errors["/triggers/3/event"]["code"] == "required"
    manual = definition(triggers=[{"type": "manual"}, {"type": "event", "event": "a.b"}])
    await create_workflow(http, editor, manual)
