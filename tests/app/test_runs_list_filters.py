"""The runs list's filters for the dashboard: several statuses, failed only, trigger, time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from temporalio.worker import Worker

from tests.support.api import (
    API,
    Actor,
    create_workflow,
    definition,
    run_becomes,
    start_run,
    waiting_definition,
)
from tests.support.eventually import eventually


async def _ids(http: httpx.AsyncClient, actor: Actor, **params: Any) -> list[str]:
    response = await http.get(f"{API}/runs", params=params, headers=actor.headers)
    assert response.status_code == 200, response.text
    return [run["run_id"] for run in response.json()["items"]]


async def test_filters_combine_and_status_may_repeat(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    failing = await create_workflow(
        http,
        editor,
        definition(nodes=[{"id": "boom", "type": "fail", "config": {"message": "no"}}]),
    )
    quick = await create_workflow(http, editor)
    slow = await create_workflow(http, editor, waiting_definition())
    failed = await start_run(http, editor, failing["id"])
    done = await start_run(http, editor, quick["id"])
    open_ = await start_run(http, editor, slow["id"])
    await run_becomes(http, editor, failed, "failed")
    await run_becomes(http, editor, done, "succeeded")

    async def settled() -> bool:
        return set(await _ids(http, editor, status=["failed", "succeeded"])) == {failed, done}

    await eventually(settled, what="both finished runs listed by status")
    assert await _ids(http, editor, failed="true") == [failed]
    assert await _ids(http, editor, status=["running", "succeeded"]) == [open_, done]
    assert await _ids(http, editor, trigger="api", workflow_id=quick["id"]) == [done]
    assert await _ids(http, editor, trigger="schedule") == []

    now = datetime.now(UTC)
    hour = timedelta(hours=1)
    later = await _ids(http, editor, started_after=(now + hour).isoformat())
    assert later == []
    before = await _ids(http, editor, started_before=(now + hour).isoformat())
    assert set(before) == {failed, done, open_}
    window = await _ids(
        http,
        editor,
        started_after=(now - hour).isoformat(),
        started_before=(now + hour).isoformat(),
        status="failed",
    )
    assert window == [failed]


async def test_bad_filters_name_the_parameter(http: httpx.AsyncClient, editor: Actor) -> None:
    for params, path in (
        ({"trigger": "'; DROP"}, "/query/trigger"),
        ({"started_after": "yesterday"}, "/query/started_after"),
        ({"failed": "maybe"}, "/query/failed"),
        ({"status": ["running", "sleeping"]}, "/query/status/1"),
    ):
        response = await http.get(f"{API}/runs", params=params, headers=editor.headers)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["path"] == path
