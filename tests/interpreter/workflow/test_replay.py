"""Replay: recorded histories must replay on the current interpreter without
non-determinism. Record new golden histories with ``pytest --record-histories``."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError
from temporalio.worker import Replayer

from interpreter.client import DATA_CONVERTER, PAUSE_SIGNAL, RESUME_SIGNAL
from interpreter.workflow import InterpreterWorkflow
from tests.interpreter.workflow.conftest import Start
from tests.interpreter.workflow.test_control import eventually, snapshot
from tests.support.peer import Peer, Reply
from worker.runtime import workflow_runner

HISTORIES = Path(__file__).parents[2] / "histories"


def replayer() -> Replayer:
    return Replayer(
        workflows=[InterpreterWorkflow],
        data_converter=DATA_CONVERTER,
        workflow_runner=workflow_runner(),
    )


def representative(peer: Peer) -> dict[str, dict[str, Any]]:
    url = peer.url
    return {
        "dag_switch_merge": {
            "name": "dag",
            "nodes": [
                {
                    "id": "route",
                    "type": "switch",
                    "config": {
                        "cases": [{"when": "input.n > 1", "value": "big"}],
                        "default": "small",
                    },
                },
                {"id": "big", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}},
                {"id": "small", "type": "transform", "config": {"value": 0}},
                {
                    "id": "merge",
                    "type": "condition",
                    "join": "any_success",
                    "config": {"expr": "nodes.big.status == 'succeeded'"},
                },
                {"id": "pause", "type": "wait", "config": {"duration": "100ms"}},
            ],
            "edges": [
                {"from": "route", "to": "big", "when": "nodes.route.output.value == 'big'"},
                {"from": "route", "to": "small", "when": "nodes.route.output.value == 'small'"},
                {"from": "big", "to": "merge"},
                {"from": "small", "to": "merge"},
                {"from": "merge", "to": "pause"},
            ],
        },
        "http_retry_failure_edge": {
            "name": "http",
            "nodes": [
                {
                    "id": "flaky",
                    "type": "http",
                    "config": {"method": "GET", "url": f"{url}/flaky"},
                    "retry": {"initial_interval": "100ms"},
                    "idempotency": True,
                },
                {
                    "id": "bad",
                    "type": "http",
                    "config": {"method": "POST", "url": f"{url}/bad", "body": {"a": 1}},
                },
                {
                    "id": "recover",
                    "type": "log",
                    "config": {"message": "recovered {{ nodes.bad.error.type }}"},
                },
                {
                    "id": "check",
                    "type": "validate",
                    "config": {
                        "data": "{{ nodes.flaky.output.body }}",
                        "schema": {"type": "object"},
                    },
                },
            ],
            "edges": [
                {"from": "bad", "to": "recover", "on": "failure"},
                {"from": "flaky", "to": "check"},
            ],
        },
        "fail_fast": {
            "name": "fail",
            "nodes": [
                {"id": "slow", "type": "http", "config": {"method": "GET", "url": f"{url}/slow"}},
                {"id": "stop", "type": "fail", "config": {"message": "stop {{ input.n }}"}},
            ],
        },
    }


async def run_all(start: Start, peer: Peer) -> list[tuple[str, Any]]:
    peer.script("/flaky", [Reply(503), Reply(200, {"ok": True})])
    peer.route("/bad", Reply(422, {"error": "nope"}))
    peer.route("/slow", Reply(200, delay=0.5))
    peer.route("/one", Reply(200, delay=0.5))
    handles = []
    for name, definition in representative(peer).items():
        handle = await start(definition, {"n": 3})
        with contextlib.suppress(WorkflowFailureError):
            await handle.result()
        handles.append((name, handle))
    paused = await start(
        {
            "name": "paused",
            "nodes": [
                {
                    "id": "one",
                    "type": "http",
                    "config": {"method": "GET", "url": f"{peer.url}/one"},
                },
                {"id": "two", "type": "transform", "config": {"value": 2}},
            ],
            "edges": [{"from": "one", "to": "two"}],
        }
    )
    await eventually(lambda: _running(paused))
    await paused.signal(PAUSE_SIGNAL)
    await paused.signal(RESUME_SIGNAL)
    await paused.result()
    handles.append(("pause_resume", paused))
    cancelled = await start(
        {"name": "cancel", "nodes": [{"id": "nap", "type": "wait", "config": {"duration": "1h"}}]}
    )
    await eventually(lambda: _running(cancelled))
    await cancelled.cancel()
    with pytest.raises(WorkflowFailureError):
        await cancelled.result()
    handles.append(("cancelled", cancelled))
    return handles


async def _running(handle: Any) -> bool:
    return any(n.status.value in ("running", "waiting") for n in (await snapshot(handle)).nodes)


async def test_current_runs_replay(
    start: Start, peer: Peer, request: pytest.FixtureRequest
) -> None:
    record = request.config.getoption("--record-histories")
    for name, handle in await run_all(start, peer):
        history = await handle.fetch_history()
        await replayer().replay_workflow(history)
        if record:
            HISTORIES.mkdir(exist_ok=True)
            (HISTORIES / f"{name}.json").write_text(history.to_json())


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_golden_history_replays(path: Path) -> None:
    from temporalio.client import WorkflowHistory

    history = WorkflowHistory.from_json(path.stem, path.read_text())
    await replayer().replay_workflow(history)
