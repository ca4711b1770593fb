"""Schedules: Temporal Schedules that start runs of a workflow."""

from __future__ import annotations

from typing import Any

import httpx
from temporalio.worker import Worker

from app.settings import Settings
from tests.support.api import API, Actor, create_workflow, definition, quota_api
from tests.support.eventually import eventually


async def _schedule(
    http: httpx.AsyncClient, actor: Actor, workflow_id: str, **body: Any
) -> httpx.Response:
    return await http.post(
        f"{API}/workflows/{workflow_id}/schedules", json=body, headers=actor.headers
    )


async def _runs_of(http: httpx.AsyncClient, actor: Actor, workflow_id: str) -> list[dict[str, Any]]:
    response = await http.get(f"{API}/runs?workflow_id={workflow_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_interval_schedule_fires_by_itself(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    created = await _schedule(http, editor, workflow["id"], interval="2s", input={"n": 1})
    assert created.status_code == 201, created.text
    schedule = created.json()
    assert schedule["interval"] == "2s"
    assert schedule["cron"] is None
    assert schedule["version"] == 1
    assert schedule["input"] == {"n": 1}
    assert schedule["next_runs"]

    async def fired() -> list[dict[str, Any]] | None:
        runs = await _runs_of(http, editor, workflow["id"])
        return runs or None

    runs = await eventually(fired, within=12, what="a run started by the schedule")
    assert runs[0]["trigger"] == "schedule"
    assert runs[0]["run_id"].startswith(f"run-{schedule['schedule_id']}")
    detail = (await http.get(f"{API}/runs/{runs[0]['run_id']}", headers=editor.headers)).json()
    assert detail["input"] == {"n": 1}
    deleted = await http.delete(
        f"{API}/schedules/{schedule['schedule_id']}", headers=editor.headers
    )
    assert deleted.status_code == 204


async def test_a_cron_schedule_is_read_changed_triggered_and_deleted(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    created = await _schedule(
        http, editor, workflow["id"], cron="0 3 * * MON-FRI", timezone="Europe/Paris", paused=True
    )
    assert created.status_code == 201, created.text
    schedule = created.json()
    sid = schedule["schedule_id"]
    assert (schedule["cron"], schedule["timezone"], schedule["overlap"]) == (
        "0 3 * * MON-FRI",
        "Europe/Paris",
        "skip",
    )
    assert schedule["paused"] is True
    assert schedule["next_runs"] == []

    async def listed() -> list[dict[str, Any]] | None:
        page = await http.get(f"{API}/workflows/{workflow['id']}/schedules", headers=editor.headers)
        assert page.status_code == 200, page.text
        return page.json()["items"] or None

    assert [s["schedule_id"] for s in await eventually(listed, what="the schedule listed")] == [sid]

    # A new active version is picked up by the next PATCH, which re-pins the runs.
    body = definition(
        name=workflow["name"], nodes=[{"id": "v2", "type": "transform", "config": {"value": 2}}]
    )
    assert (
        await http.put(
            f"{API}/workflows/{workflow['id']}", json={"definition": body}, headers=editor.headers
        )
    ).status_code == 200
    patched = await http.patch(
        f"{API}/schedules/{sid}",
        json={"cron": "*/10 * * * * *", "overlap": "buffer_one", "input": {"k": "v"}},
        headers=editor.headers,
    )
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert (changed["cron"], changed["overlap"], changed["version"], changed["input"]) == (
        "*/10 * * * * *",
        "buffer_one",
        2,
        {"k": "v"},
    )
    assert changed["paused"] is True
    assert changed["timezone"] == "Europe/Paris"

    triggered = await http.post(f"{API}/schedules/{sid}/trigger", headers=editor.headers)
    assert triggered.status_code == 202, triggered.text

    async def started() -> list[dict[str, Any]] | None:
        return await _runs_of(http, editor, workflow["id"]) or None

    run = (await eventually(started, what="the triggered run"))[0]
    assert (run["trigger"], run["version"]) == ("schedule", 2)

    assert (await http.delete(f"{API}/schedules/{sid}", headers=editor.headers)).status_code == 204
    assert (await http.get(f"{API}/schedules/{sid}", headers=editor.headers)).status_code == 404


async def test_bad_timing_is_a_422_naming_the_field(http: httpx.AsyncClient, editor: Actor) -> None:
    workflow = await create_workflow(http, editor)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"cron": "61 * * * *"}, "/body/cron"),
        ({"cron": "* * *"}, "/body/cron"),
        ({"cron": "*/0 * * * *"}, "/body/cron"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "/body/timezone"),
        ({"interval": "soon"}, "/body/interval"),
        ({"interval": "500ms"}, "/body/interval"),
        ({"cron": "* * * * *", "input": {}, "overlap": "sometimes"}, "/body/overlap"),
    ]
    for body, path in cases:
        response = await _schedule(http, editor, workflow["id"], **body)
        assert response.status_code == 422, (body, response.text)
        assert path in [e["path"] for e in response.json()["errors"]], (body, response.text)
    neither = await _schedule(http, editor, workflow["id"], timezone="UTC")
    assert neither.status_code == 422
    assert "cron" in neither.text
    assert "interval" in neither.text
    both = await _schedule(http, editor, workflow["id"], cron="* * * * *", interval="1m")
    assert both.status_code == 422
    assert "not both" in both.text


async def test_an_input_breaking_the_schema_is_refused(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    schema = {"type": "object", "required": ["n"], "properties": {"n": {"type": "integer"}}}
    workflow = await create_workflow(http, editor, definition(input_schema=schema))
    response = await _schedule(http, editor, workflow["id"], interval="1h", input={"n": "x"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "/body/input/n"


async def test_deleting_the_workflow_pauses_its_schedules(
    http: httpx.AsyncClient, editor: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    created = await _schedule(http, editor, workflow["id"], interval="1h")
    sid = created.json()["schedule_id"]

    async def listed() -> bool | None:
        page = await http.get(f"{API}/workflows/{workflow['id']}/schedules", headers=editor.headers)
        return True if page.json()["items"] else None

    await eventually(listed, what="the schedule listed")
    assert (
        await http.delete(f"{API}/workflows/{workflow['id']}", headers=editor.headers)
    ).status_code == 204
    schedule = (await http.get(f"{API}/schedules/{sid}", headers=editor.headers)).json()
    assert schedule["paused"] is True
    unpause = await http.patch(
        f"{API}/schedules/{sid}", json={"paused": False}, headers=editor.headers
    )
    assert unpause.status_code == 409
    assert "deleted" in unpause.json()["detail"]


async def test_other_users_get_404_and_viewers_403(
    http: httpx.AsyncClient, editor: Actor, other_editor: Actor, viewer: Actor, admin: Actor
) -> None:
    workflow = await create_workflow(http, editor)
    sid = (await _schedule(http, editor, workflow["id"], interval="1h", paused=True)).json()[
        "schedule_id"
    ]
    routes: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/schedules/{sid}", None),
        ("GET", f"/workflows/{workflow['id']}/schedules", None),
        ("PATCH", f"/schedules/{sid}", {"paused": False}),
        ("POST", f"/schedules/{sid}/trigger", None),
        ("DELETE", f"/schedules/{sid}", None),
        ("POST", f"/workflows/{workflow['id']}/schedules", {"interval": "1h"}),
    ]
    for method, path, body in routes:
        response = await http.request(method, API + path, json=body, headers=other_editor.headers)
        assert response.status_code == 404, (method, path, response.text)
        expected = 404 if method == "GET" else 403
        response = await http.request(method, API + path, json=body, headers=viewer.headers)
        assert response.status_code == expected, (method, path, response.text)
    assert (await http.get(f"{API}/schedules/{sid}", headers=admin.headers)).status_code == 200
    assert (
        await http.get(f"{API}/schedules/sched-{'0' * 32}", headers=editor.headers)
    ).status_code == 404
    assert (
        await http.get(f"{API}/schedules/run-anything", headers=editor.headers)
    ).status_code == 404
    schedule = (await http.get(f"{API}/schedules/{sid}", headers=editor.headers)).json()
    assert schedule["paused"] is True


async def test_a_one_second_schedule_is_refused_naming_the_field(
    http: httpx.AsyncClient, settings: Settings, editor: Actor, admin: Actor
) -> None:
    async with quota_api(settings, quota_min_schedule_interval=60) as limited:
        workflow = await create_workflow(http, editor, definition())
        for body, field in (
            ({"interval": "1s"}, "interval"),
            ({"cron": "*/10 * * * * *"}, "cron"),
            ({"cron": "0,30 * * * * *"}, "cron"),
        ):
            refused = await _schedule(limited, editor, workflow["id"], paused=True, **body)
            assert refused.status_code == 422, refused.text
            [error] = refused.json()["errors"]
            assert (error["path"], error["code"]) == (f"/{field}", "quota")
            assert "FLOWFORGE_QUOTA_MIN_SCHEDULE_INTERVAL" in error["message"]
            assert "60s" in error["message"]
        created = await _schedule(limited, editor, workflow["id"], cron="* * * * *", paused=True)
        assert created.status_code == 201, created.text
        sid = created.json()["schedule_id"]
        faster = await limited.patch(
            f"{API}/schedules/{sid}", json={"interval": "30s"}, headers=editor.headers
        )
        assert faster.status_code == 422, faster.text
        assert faster.json()["errors"][0]["path"] == "/interval"
        admins = await create_workflow(http, admin, definition())
        # The interval bounds what a schedule costs the engine: admins' too.
        refused = await _schedule(limited, admin, admins["id"], interval="1s", paused=True)
        assert refused.status_code == 422


async def test_an_owner_cannot_have_more_schedules_than_the_quota(
    http: httpx.AsyncClient, settings: Settings, editor: Actor, other_editor: Actor
) -> None:
    async with quota_api(settings, quota_schedules=1) as limited:
        mine = await create_workflow(http, editor, definition())
        first = await _schedule(limited, editor, mine["id"], interval="1h", paused=True)
        assert first.status_code == 201, first.text

        async def listed() -> bool:
            page = await limited.get(
                f"{API}/workflows/{mine['id']}/schedules", headers=editor.headers
            )
            return len(page.json()["items"]) == 1

        await eventually(listed, what="the first schedule listed")
        refused = await _schedule(limited, editor, mine["id"], interval="1h", paused=True)
        assert refused.status_code == 409, refused.text
        assert "FLOWFORGE_QUOTA_SCHEDULES" in refused.text
        theirs = await create_workflow(http, other_editor, definition())
        allowed = await _schedule(limited, other_editor, theirs["id"], interval="1h", paused=True)
        assert allowed.status_code == 201, allowed.text
