"""Replay: recorded histories must replay on the current interpreter without
non-determinism. Record new golden histories with ``pytest --record-histories``."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowHistory
from temporalio.worker import Replayer

from interpreter.contract.client import (
    PAUSE_SIGNAL,
    RESUME_SIGNAL,
    SIGNAL_UPDATE,
    SKIP_NODE_UPDATE,
    TRACE_ID_MEMO,
)
from interpreter.contract.rollout import bucket, rollout_salt
from interpreter.contract.run import (
    ItemReuse,
    PinnedWorkflow,
    ScheduledRollout,
    child_key,
    items_digest,
)
from interpreter.contract.testing import TestSpec
from interpreter.runtime.operator import NodeSkip, SignalDelivery
from interpreter.runtime.workflow import InterpreterWorkflow
from interpreter.validation.definition import validate_definition
from tests.support.eventually import eventually
from tests.support.peer import Peer, Reply
from tests.support.temporal import TEST_CONVERTER
from tests.support.workflows import Start, make_run, run_is, snapshot, suspending
from worker.runtime import workflow_runner

HISTORIES = Path(__file__).parents[2] / "histories"
IDS = HISTORIES / "workflow_ids.json"
"""The workflow id each golden history ran under (histories do not record it)."""

GOLDEN = (
    "cancelled",
    "continued_as_new_first_run",
    "dag_switch_merge",
    "fail_fast",
    "for_each_batch_child",
    "for_each_batched",
    "for_each_inline",
    "for_each_item_reuse",
    "http_retry_failure_edge",
    "local_failure_suspend_skip",
    "local_http_retry",
    "local_long_backoff",
    "pause_resume",
    "payload_limits",
    "schedule_rollout_arm",
    "traced_own_root",
    "signal_suspend_webhook_script",
    "sub_workflow",
    "test_run_mocks",
)
"""Every golden history, by file name: a new case in :func:`run_all` is pinned here before
it is recorded, so neither a lost history nor an unreviewed one passes unnoticed."""


def replayer(*, traced: bool = False) -> Replayer:
    """The interpreter's replayer; ``traced``: with a tracing worker's interceptors."""
    interceptors: list[Any] = []
    if traced:
        from opentelemetry.sdk.trace import TracerProvider

        from interpreter.runtime.run_tracing import RunTracingInterceptor
        from worker.tracing import NodeSpanInterceptor

        tracer = TracerProvider().get_tracer("replay")
        interceptors = [RunTracingInterceptor(tracer), NodeSpanInterceptor()]
    return Replayer(
        workflows=[InterpreterWorkflow],
        data_converter=TEST_CONVERTER,
        workflow_runner=workflow_runner(TEST_CONVERTER),
        interceptors=interceptors,
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
            # Seen running by a query between workflow tasks: a regular activity.
            "defaults": {"execution": "activity"},
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
    handles.append(("test_run_mocks", await run_test_mocks(start, peer)))
    handles.append(("schedule_rollout_arm", await run_schedule_rollout_arm(start)))
    handles.append(("traced_own_root", await run_traced_own_root(start)))
    handles.append(
        ("local_failure_suspend_skip", await run_local_failure_suspend_skip(start, peer))
    )
    return handles + await run_part_two(start, peer)


async def run_traced_own_root(start: Start) -> Any:
    """A run started without a trace on a tracing worker: it has a trace of its own.

    Its history holds the trace root's marker and the trace id in its memo;
    the golden replays on an untraced worker (as all goldens do).
    """
    handle = await start(
        {
            "name": "rooted",
            "nodes": [
                {"id": "say", "type": "transform", "config": {"value": "hi"}},
                {"id": "nap", "type": "wait", "config": {"duration": "100ms"}},
            ],
            "edges": [{"from": "say", "to": "nap"}],
        },
        traced=True,
    )
    await handle.result()
    memo = await (await handle.describe()).memo()
    assert len(memo[TRACE_ID_MEMO]) == 32
    return handle


ROLLED_CUSTOMER = "customer-5"
"""A ``sticky_by`` value whose bucket under salt ``wf-test:2`` is below 50: the candidate's."""


async def run_schedule_rollout_arm(start: Start) -> Any:
    """A schedule's run under a rollout places itself on the candidate arm and records it."""
    assert bucket(rollout_salt("wf-test", 2), ROLLED_CUSTOMER) < 50
    says = {"name": "arms", "output": "{{ nodes.say.output }}"}
    candidate = make_run(
        {**says, "nodes": [{"id": "say", "type": "transform", "config": {"value": "two"}}]},
        {"customer": ROLLED_CUSTOMER},
    )
    meta = candidate.meta.model_copy(update={"version": 2, "trigger": "schedule"})
    rollout = ScheduledRollout(
        candidate=candidate.model_copy(update={"meta": meta}),
        percent=50,
        sticky_by="input.customer",
        salt=rollout_salt("wf-test", 2),
    )
    handle = await start(
        {**says, "nodes": [{"id": "say", "type": "transform", "config": {"value": "one"}}]},
        {"customer": ROLLED_CUSTOMER},
        rollout=rollout,
    )
    assert await handle.result() == "two"
    return handle


async def run_local_failure_suspend_skip(start: Start, peer: Peer) -> Any:
    """A local node fails and suspends the run, an operator skips it: patches decided at start."""
    peer.route("/charge", Reply(500))
    handle = await start(suspending(peer.url))
    await eventually(lambda: run_is(handle, "suspended"))
    await handle.execute_update(SKIP_NODE_UPDATE, NodeSkip(node_id="charge", output="manual"))
    assert await handle.result() == "manual"
    return handle


async def run_part_two(start: Start, peer: Peer) -> list[tuple[str, Any]]:
    """Loops, children, humans, scripts and webhooks."""
    peer.route("/hook", Reply(200))
    handles: list[tuple[str, Any]] = []
    body = {
        "nodes": [
            {
                "id": "get",
                "type": "http",
                "config": {"method": "GET", "url": f"{peer.url}/one?i={{{{ item }}}}"},
            },
            {"id": "calc", "type": "transform", "config": {"value": "{{ item * index }}"}},
        ],
        "edges": [{"from": "get", "to": "calc"}],
        "output": "{{ nodes.calc.output }}",
    }
    loop = {
        "name": "loop",
        "nodes": [
            {"id": "each", "type": "for_each", "config": {"items": "input.items", "body": body}}
        ],
    }
    inline = await start(loop, {"items": [1, 2, 3]})
    await inline.result()
    handles.append(("for_each_inline", inline))
    batched = await start(
        loop, {"items": list(range(5))}, for_each_batch_threshold=2, for_each_batch_size=3
    )
    await batched.result()
    handles.append(("for_each_batched", batched))
    batch_child = batched._client.get_workflow_handle(f"{batched.id}/each/3")
    handles.append(("for_each_batch_child", batch_child))
    # A redrive: three items' outputs given, the other three run in batches by index.
    given = ItemReuse(total=6, digest=items_digest(list(range(6))), outputs={0: 0, 2: 4, 3: 9})
    redriven = await start(
        loop,
        {"items": list(range(6))},
        reuse_items={"each": given},
        for_each_batch_threshold=2,
        for_each_batch_size=2,
    )
    assert await redriven.result() == {"each": [0, 1, 4, 9, 16, 25]}
    handles.append(("for_each_item_reuse", redriven))
    child_def, _ = validate_definition(
        {
            "name": "child",
            "nodes": [{"id": "x", "type": "transform", "config": {"value": "{{ input }}"}}],
        }
    )
    assert child_def is not None
    parent = await start(
        {
            "name": "parent",
            "nodes": [
                {
                    "id": "call",
                    "type": "sub_workflow",
                    "config": {"workflow_id": "c", "input": {"a": 1}},
                }
            ],
        },
        children={
            child_key("c", None): PinnedWorkflow(workflow_id="c", version=1, definition=child_def)
        },
    )
    await parent.result()
    handles.append(("sub_workflow", parent))
    waiting = await start(
        {
            "name": "signal",
            "on_failure": "suspend",
            "nodes": [
                {
                    "id": "ask",
                    "type": "wait_for_signal",
                    "config": {"signal": "go", "schema": {"type": "object"}},
                },
                {
                    "id": "use",
                    "type": "transform",
                    "config": {"value": "{{ nodes.ask.output.v.missing }}"},
                },
                {
                    "id": "hook",
                    "type": "webhook",
                    "config": {"url": f"{peer.url}/hook", "payload": {"a": 1}},
                },
                {
                    "id": "code",
                    "type": "script",
                    "config": {
                        "language": "python",
                        "code": "def main(input):\n    return input['a'] + 1",
                        "input": {"a": 1},
                    },
                },
            ],
            "edges": [
                {"from": "ask", "to": "use"},
                {"from": "use", "to": "hook"},
                {"from": "hook", "to": "code"},
            ],
        }
    )
    await eventually(lambda: _running(waiting))
    await waiting.execute_update(SIGNAL_UPDATE, SignalDelivery(name="go", payload={"v": {}}))
    await eventually(lambda: run_is(waiting, "suspended"))
    await waiting.execute_update(SKIP_NODE_UPDATE, NodeSkip(node_id="use", output=1))
    await waiting.result()
    handles.append(("signal_suspend_webhook_script", waiting))
    chain = [{"id": f"s{i}", "type": "wait", "config": {"duration": "10ms"}} for i in range(6)]
    edges = [{"from": f"s{i}", "to": f"s{i + 1}"} for i in range(5)]
    continued = await start(
        {"name": "can", "nodes": chain, "edges": edges}, continue_as_new_after_events=15
    )
    await continued.result()
    first_run = [
        w
        async for w in continued._client.list_workflows(
            f"WorkflowId = '{continued.id}' AND ExecutionStatus = 'ContinuedAsNew'"
        )
    ][-1]
    handles.append(
        (
            "continued_as_new_first_run",
            continued._client.get_workflow_handle(continued.id, run_id=first_run.run_id),
        )
    )
    handles.append(("payload_limits", await run_payload_limits(start, peer)))
    return handles + await run_local(start, peer)


async def run_local(start: Start, peer: Peer) -> list[tuple[str, Any]]:
    """Local activities: retries on the workflow's timers, beside regular activities."""
    peer.script("/local-flaky", [Reply(503), Reply(200, {"ok": True})])
    peer.route("/local-bad", Reply(422, {"error": "nope"}))
    retry = await start(
        {
            "name": "local",
            "nodes": [
                {
                    "id": "flaky",
                    "type": "http",
                    "config": {"url": f"{peer.url}/local-flaky"},
                    "retry": {"initial_interval": "100ms"},
                    "idempotency": True,
                },
                {
                    "id": "bad",
                    "type": "http",
                    "config": {"method": "POST", "url": f"{peer.url}/local-bad", "body": {}},
                },
                {
                    "id": "recover",
                    "type": "log",
                    "config": {"message": "{{ nodes.bad.error.type }}"},
                },
                {
                    "id": "check",
                    "type": "validate",
                    "config": {
                        "data": "{{ nodes.flaky.output.body }}",
                        "schema": {"type": "object"},
                    },
                },
                {
                    "id": "hook",
                    "type": "webhook",
                    "config": {"url": f"{peer.url}/hook", "payload": {"a": 1}},
                    "execution": "activity",
                },
            ],
            "edges": [
                {"from": "bad", "to": "recover", "on": "failure"},
                {"from": "flaky", "to": "check"},
                {"from": "check", "to": "hook"},
            ],
        }
    )
    await retry.result()
    peer.script("/local-limited", [Reply(429, headers={"Retry-After": "2"}), Reply(200)])
    backoff = await start(
        {
            "name": "backoff",
            "nodes": [
                {"id": "limited", "type": "http", "config": {"url": f"{peer.url}/local-limited"}},
                {
                    "id": "long",
                    "type": "http",
                    "config": {"url": f"{peer.url}/one"},
                    "timeout": "2m",
                },
            ],
            "edges": [{"from": "limited", "to": "long"}],
        }
    )
    await backoff.result()
    return [("local_http_retry", retry), ("local_long_backoff", backoff)]


async def run_test_mocks(start: Start, peer: Peer) -> Any:
    """A test run: a mocked sequence retried on a timer, a refused node's failure edge, a loop."""
    error = {"error": {"type": "HttpStatusError", "message": "503"}}
    spec = TestSpec.model_validate(
        {
            "mocks": {
                "fetch": {"sequence": [error, {"output": {"n": 1}}]},
                "loop[*].call": {"output": "mocked"},
            },
            "run_for_real": ["real"],
        }
    )
    peer.route("/real", Reply(200, {"real": True}))
    handle = await start(
        {
            "name": "test-run",
            "nodes": [
                {
                    "id": "fetch",
                    "type": "http",
                    "config": {"url": f"{peer.url}/fetch"},
                    "retry": {"strategy": "fixed", "initial_interval": "100ms"},
                },
                {"id": "refused", "type": "http", "config": {"url": f"{peer.url}/no"}},
                {"id": "handled", "type": "transform", "config": {"value": "handled"}},
                {"id": "real", "type": "http", "config": {"url": f"{peer.url}/real"}},
                {
                    "id": "loop",
                    "type": "for_each",
                    "config": {
                        "items": "[1, 2]",
                        "body": {
                            "nodes": [
                                {"id": "call", "type": "http", "config": {"url": f"{peer.url}/i"}}
                            ]
                        },
                    },
                },
            ],
            "edges": [
                {"from": "fetch", "to": "refused"},
                {"from": "refused", "to": "handled", "on": "failure"},
                {"from": "handled", "to": "real"},
                {"from": "real", "to": "loop"},
            ],
        },
        test=spec,
    )
    await handle.result()
    return handle


async def run_payload_limits(start: Start, peer: Peer) -> Any:
    """State too large to carry (the run keeps its history), then a run output over the limit."""
    peer.route("/blob", Reply(body={"blob": "b" * 600}))
    ids = ["a", "b", "c"]
    nodes: list[dict[str, Any]] = [
        {
            "id": i,
            "type": "http",
            "config": {"url": f"{peer.url}/blob"},
            "output": "{{ result.body.blob }}",
        }
        for i in ids
    ]
    nodes.append(
        {
            "id": "all",
            "type": "transform",
            "config": {"value": "{{ [nodes.a.output, nodes.b.output, nodes.c.output] }}"},
        }
    )
    edges = [{"from": x, "to": y} for x, y in zip(ids, [*ids[1:], "all"], strict=True)]
    handle = await start(
        {
            "name": "payloads",
            "nodes": nodes,
            "edges": edges,
            "output": "{{ [nodes.all.output, nodes.a.output] }}",
        },
        max_payload_bytes=2048,
        continue_as_new_after_events=8,
    )
    with pytest.raises(WorkflowFailureError):
        await handle.result()
    return handle


async def _running(handle: Any) -> bool:
    return any(n.status.value in ("running", "waiting") for n in (await snapshot(handle)).nodes)


async def test_current_runs_replay(
    start: Start, peer: Peer, request: pytest.FixtureRequest
) -> None:
    record = request.config.getoption("--record-histories")
    ids = json.loads(IDS.read_text()) if IDS.exists() else {}
    runs = await run_all(start, peer)
    assert sorted(name for name, _ in runs) == sorted(GOLDEN)
    for name, handle in runs:
        history = await handle.fetch_history()
        await replayer().replay_workflow(history)
        if record:
            HISTORIES.mkdir(exist_ok=True)
            (HISTORIES / f"{name}.json").write_text(history.to_json())
            ids[name] = handle.id
    if record:
        IDS.write_text(json.dumps(ids, indent=1, sort_keys=True) + "\n")


def test_the_folder_holds_exactly_the_golden_histories() -> None:
    assert sorted(p.stem for p in HISTORIES.glob("*.json") if p != IDS) == sorted(GOLDEN)


BEFORE_START_PATCHES = HISTORIES / "recorded_before_start_patches"
"""Runs recorded when each patch was asked where its branch was taken (``patches`` gate
absent): a local node's failure, its ``timeout-errors-name-their-limit`` marker in the
workflow task after the first, or in the first one with the local activity's marker."""


@pytest.mark.parametrize("path", sorted(BEFORE_START_PATCHES.glob("*.json")), ids=lambda p: p.stem)
async def test_runs_recorded_before_patches_were_decided_at_start_replay(path: Path) -> None:
    from temporalio.client import WorkflowHistory

    history = WorkflowHistory.from_json(path.stem, path.read_text())
    markers = [e for e in history.events if e.marker_recorded_event_attributes.marker_name]
    assert "patches-decided-at-start" not in str(markers)
    assert "timeout-errors-name-their-limit" in str(markers)
    await replayer().replay_workflow(history)


TASK_EARLY = HISTORIES / "local_activity_resolved_a_task_early"
"""A local node's failure, suspending its run, whose activity marker is in the first workflow
task while the code reading its result ran in the second (the task closed for a query as
the activity ended). ``recorded_before_start_patches`` is such a run, recorded as is;
``decided_at_start`` is a run recorded since, its activity marker moved into the first task
(event 12 to 9, the same shape, event for event). ``retry_decided_at_start``, recorded since
as is, is a retrying local node of that shape: its first attempt's marker in the first task,
the timer for its second in the second."""


def _task_early(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(name, (TASK_EARLY / f"{name}.json").read_text())


@pytest.mark.parametrize("name", ["decided_at_start", "retry_decided_at_start"])
async def test_a_local_activity_resolved_a_task_early_on_replay_keeps_its_patches(
    name: str,
) -> None:
    await replayer().replay_workflow(_task_early(name))


async def test_a_run_recorded_before_with_its_activity_resolved_a_task_early_stays_stuck() -> None:
    """Why patches are decided at start: asked late, replay answers False a task early.

    No code can replay such a run recorded before (the answer is due before the marker is
    announced); it needs a ``temporal workflow reset``.
    """
    result = await replayer().replay_workflow(
        _task_early("recorded_before_start_patches"), raise_on_replay_failure=False
    )
    assert "Non-deprecated patch marker encountered for change timeout-errors-name-their-limit" in (
        str(result.replay_failure)
    )


@pytest.mark.parametrize("name", GOLDEN)
async def test_golden_history_replays(name: str) -> None:
    from temporalio.client import WorkflowHistory

    path = HISTORIES / f"{name}.json"
    assert path.is_file(), f"golden history {name} is missing: record it with --record-histories"
    # Child workflow ids derive from the run's id, so replay under the recorded one.
    workflow_id = (
        json.loads(IDS.read_text()).get(path.stem, path.stem) if IDS.exists() else path.stem
    )
    history = WorkflowHistory.from_json(workflow_id, path.read_text())
    await replayer().replay_workflow(history)
    # On a tracing worker too: whether a run has a trace of its own is in its history.
    await replayer(traced=True).replay_workflow(history)


async def test_no_run_records_a_payload_patch_of_its_own(start: Start, peer: Peer) -> None:
    peer.route("/blob", Reply(body={"blob": "b" * 600}))
    definition = {
        "name": "twice",
        "nodes": [
            {
                "id": "call",
                "type": "http",
                "config": {"url": f"{peer.url}/blob"},
                "output": "{{ result.body.blob }}",
            },
            {
                "id": "twice",
                "type": "transform",
                "config": {"value": "{{ [nodes.call.output, nodes.call.output] }}"},
            },
        ],
        "edges": [{"from": "call", "to": "twice"}],
    }
    fits = await start(definition)
    await fits.result()
    over = await start(definition, max_payload_bytes=1024)  # twice's output is over it
    with pytest.raises(WorkflowFailureError):
        await over.result()
    # Neither records a payload marker: the one decided at start covers the check.
    for handle in (fits, over):
        history = await handle.fetch_history()
        recorded = [
            json.loads(
                event.marker_recorded_event_attributes.details["patch-data"].payloads[0].data
            )
            for event in history.events
            if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == "core_patch"
        ]
        assert [p["id"] for p in recorded] == ["patches-decided-at-start"]
        await replayer().replay_workflow(history)
