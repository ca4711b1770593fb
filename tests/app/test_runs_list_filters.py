"""The runs list's filters for the dashboard: several statuses, failed only, trigger, time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from temporalio.worker import Worker

from app.runs.reading import visibility_query
from interpreter.contract.run import RunStatus
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


@pytest.mark.fast
def test_times_in_queries_are_utc_four_digit_years_clamped_to_the_epoch() -> None:
    east = timezone(timedelta(hours=5))
    query = visibility_query(
        workflow_id=None,
        status=[RunStatus.RUNNING, RunStatus.RUNNING],
        owner_id=None,
        started_after=datetime(204, 5, 6, tzinfo=UTC),
        started_before=datetime(2026, 1, 2, 8, 4, 5, tzinfo=east),
    )
    assert "StartTime >= '1970-01-01T00:00:00.000000Z'" in query
    assert "StartTime < '2026-01-02T03:04:05.000000Z'" in query
    assert query.count("FlowForgeStatus = 'running'") == 1
    far = visibility_query(
        workflow_id=None,
        status=None,
        owner_id=None,
        started_before=datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-5))),
    )
    assert "StartTime < '9999-12-31T23:59:59.999999Z'" in far
