"""A run's progress as the dashboard reads it: retrying nodes, node counts, links."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeout
from temporalio.worker import Worker

from app.db.migrations import upgrade_to_head
from app.runs.attempts import counts_from_stats, node_error
from tests.app.test_run_suspend import suspended_run
from tests.support.api import API, Actor, definition, run_becomes, run_of
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply


def retrying(url: str, execution: str = "local") -> dict[str, Any]:
    """``fetch`` (http, three attempts five seconds apart) then ``after``."""
    return definition(
        nodes=[
            {
                "id": "fetch",
                "type": "http",
                "execution": execution,
                "retry": {
                    "strategy": "fixed",
                    "max_attempts": 3,
                    "initial_interval": "5s",
                    "max_interval": "5s",
                },
                "config": {"method": "GET", "url": f"{url}/flaky"},
            },
            {"id": "after", "type": "transform", "config": {"value": "done"}},
        ],
        edges=[{"from": "fetch", "to": "after"}],
    )


async def _node(http: httpx.AsyncClient, actor: Actor, run_id: str, node: str) -> dict[str, Any]:
    run = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
    found: dict[str, Any] = next(n for n in run["nodes"] if n["id"] == node)
    return found | {"run": run}


@pytest.mark.parametrize("execution", ["local", "activity"])
async def test_a_node_between_attempts_reads_retrying_with_its_last_error(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer, execution: str
) -> None:
    """A local node's retries are the workflow's, a regular one's Temporal's: both read alike."""
    peer.route("/flaky", Reply(503, {"error": "busy"}))
    run_id = await run_of(http, editor, retrying(peer.url, execution))

    async def between_attempts() -> dict[str, Any] | None:
        node = await _node(http, editor, run_id, "fetch")
        return node if node["status"] == "retrying" else None

    node = await eventually(between_attempts, what="fetch to be retrying")
    assert node["attempts"] == 1
    assert node["last_error"]["type"] == "HttpStatusError"
    assert "503" in node["last_error"]["message"]
    assert node["next_attempt_at"]
    counts = node["run"]["node_counts"]
    assert (counts["retrying"], counts["pending"], counts["succeeded"]) == (1, 1, 0)
    assert node["run"]["status"] == "running"

    peer.route("/flaky", Reply(200, {"ok": True}))
    run = await run_becomes(http, editor, run_id, "succeeded")
    fetch = next(n for n in run["nodes"] if n["id"] == "fetch")
    assert (fetch["status"], fetch["attempts"], fetch["last_error"]) == ("succeeded", 2, None)
    assert run["node_counts"]["succeeded"] == 2
    assert len(peer.hits("/flaky")) == 2

    async def both_attempts() -> list[dict[str, Any]] | None:
        response = await http.get(f"{API}/runs/{run_id}/nodes/fetch", headers=editor.headers)
        assert response.status_code == 200, response.text
        log: list[dict[str, Any]] = response.json()["attempt_log"]
        return log if len(log) == 2 else None

    first, second = await eventually(both_attempts, what="both attempts recorded")
    assert (first["attempt"], first["outcome"], first["error_type"]) == (
        1,
        "failed",
        "HttpStatusError",
    )
    assert "503" in first["error"]
    assert (second["attempt"], second["outcome"], second["error"]) == (2, "succeeded", None)
    assert first["started_at"] <= first["ended_at"] <= second["started_at"] <= second["ended_at"]
    after = (await http.get(f"{API}/runs/{run_id}/nodes/after", headers=editor.headers)).json()
    assert after["attempt_log"] == []


async def test_a_suspended_run_names_its_node_and_links_to_the_dashboard(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    run_id = await suspended_run(http, editor, peer)
    run = (await http.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
    assert run["suspended_on"] == "charge"
    assert run["dashboard_url"] == f"http://flowforge.test/ui/runs/{run_id}"
    assert (run["node_counts"]["failed"], run["node_counts"]["pending"]) == (1, 1)


async def test_a_running_run_is_suspended_on_nothing(
    http: httpx.AsyncClient, worker: Worker, editor: Actor
) -> None:
    run_id = await run_of(http, editor, definition())
    run = await run_becomes(http, editor, run_id, "succeeded")
    assert run["suspended_on"] is None
    assert run["node_counts"] == {
        "pending": 0,
        "running": 0,
        "retrying": 0,
        "succeeded": 1,
        "failed": 0,
        "skipped": 0,
        "cancelled": 0,
        "waiting": 0,
    }

    async def listed() -> dict[str, Any] | None:
        page = (await http.get(f"{API}/runs", headers=editor.headers)).json()
        item = next((i for i in page["items"] if i["run_id"] == run_id), None)
        return item if item and item["status"] == "succeeded" else None

    item = await eventually(listed, what="the finished run in the list")
    assert item["node_counts"]["succeeded"] == 1


@pytest.mark.fast
def test_attempt_failures_read_as_the_interpreter_reports_them() -> None:
    lost = node_error(TemporalTimeout("", type=TimeoutType.HEARTBEAT, last_heartbeat_details=[]))
    assert (lost.type, lost.details) == ("WorkerLost", {"timeout": "heartbeat"})
    slow = node_error(
        TemporalTimeout("", type=TimeoutType.START_TO_CLOSE, last_heartbeat_details=[])
    )
    assert (slow.type, slow.details) == ("Timeout", {"timeout": "start_to_close"})
    assert "start_to_close" in slow.message
    odd = node_error(RuntimeError("odd"))
    assert (odd.type, odd.message) == ("RuntimeError", "odd")
    app = node_error(ApplicationError("no", {"attempt": 2, "status": 503}, type="HttpStatusError"))
    assert (app.type, app.details) == ("HttpStatusError", {"status": 503})
    assert counts_from_stats("nothing") is None
    assert counts_from_stats({"a": {"s": "failed"}, "b": "junk"})["failed"] == 1  # type: ignore[index]


async def test_attempts_ending_together_are_each_recorded_once(
    http: httpx.AsyncClient, worker: Worker, editor: Actor, peer: Peer
) -> None:
    """The worker writes attempt rows in batches: none lost, none doubled."""
    width = 30
    nodes = [
        {"id": f"n{i}", "type": "http", "config": {"method": "GET", "url": f"{peer.url}/ok"}}
        for i in range(width)
    ]
    run_id = await run_of(http, editor, definition(nodes=nodes, edges=[]))
    await run_becomes(http, editor, run_id, "succeeded")

    async def every_log() -> list[list[dict[str, Any]]] | None:
        logs = []
        for i in range(width):
            answer = await http.get(f"{API}/runs/{run_id}/nodes/n{i}", headers=editor.headers)
            logs.append(answer.json()["attempt_log"])
        return logs if all(logs) else None

    logs = await eventually(every_log, what="every node's attempt recorded")
    assert [[(a["attempt"], a["outcome"]) for a in log] for log in logs] == [
        [(1, "succeeded")]
    ] * width


async def test_a_batch_postgresql_refuses_is_logged_with_its_size_and_fails_no_node(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from datetime import UTC, datetime

    from worker.attempts import AttemptLogInterceptor, AttemptRecord

    class Refusing:
        async def record(self, entries: list[AttemptRecord]) -> None:
            raise OSError("connection refused")

    interceptor = AttemptLogInterceptor(Refusing(), flush_seconds=0)  # type: ignore[arg-type]
    now = datetime.now(UTC)
    for attempt in (1, 2, 3):
        interceptor.keep(
            AttemptRecord("run-1", "fetch", "fetch", attempt, "failed", "E", "e", now, now)
        )
    await asyncio.gather(*interceptor._pending)
    [record] = [r for r in caplog.records if "not recorded" in r.getMessage()]
    assert "3 node attempt(s) not recorded, attempt 1 of node fetch in run run-1" in (
        record.getMessage()
    )
    assert "connection refused" in record.getMessage()


async def test_rows_waiting_for_their_batch_are_written_when_the_worker_stops(
    database_url: str, tmp_path: Path
) -> None:
    from datetime import UTC, datetime

    from worker.attempts import AttemptLogInterceptor, AttemptRecord
    from worker.database import database_pool, stores
    from worker.settings import WorkerSettings

    upgrade_to_head(database_url)
    settings = WorkerSettings(DATABASE_URL=database_url, data_dir=str(tmp_path), environment="test")
    run_id = f"run-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    async with database_pool(settings) as pool:
        attempts = stores(settings, pool).attempts
        assert pool is not None
        assert attempts is not None
        interceptor = AttemptLogInterceptor(attempts, flush_seconds=3600)
        interceptor.keep(
            AttemptRecord(run_id, "fetch", "fetch", 1, "succeeded", None, None, now, now)
        )
        async with asyncio.timeout(10):
            await interceptor.drain()
        rows = await pool.fetch(
            "SELECT attempt, outcome FROM node_attempts WHERE run_id = $1", run_id
        )
    assert [tuple(row) for row in rows] == [(1, "succeeded")]
