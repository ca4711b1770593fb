"""OpenTelemetry traces of runs: API request -> workflow -> node attempts -> the called service.

The API is served by uvicorn on 127.0.0.1 and the worker polls the real
Temporal dev server; spans go to the SDK's in-memory exporter, put in place
of the ``OTEL_*``-configured one by the ``spans`` fixture.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from app.api.tracing import TracingMiddleware
from app.main import create_app
from app.settings import Settings
from app.triggers.hook_signature import sign
from interpreter import tracing
from tests.support.api import (
    API,
    Actor,
    create_workflow,
    make_settings,
    run_becomes,
    served_by_uvicorn,
)
from tests.support.eventually import eventually
from tests.support.logs import json_log_lines, json_records
from tests.support.peer import Peer, Reply
from tests.support.temporal import with_converter
from worker.tracing import NodeSpanInterceptor

INBOUND_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
INBOUND_PARENT = "00f067aa0ba902b7"


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """Spans of this test, in memory; tracing is off again after it."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(tracing, "_provider", provider)
    monkeypatch.setattr(tracing, "_enabled", False)
    monkeypatch.setattr(tracing, "_send_outbound", True)
    return exporter


@pytest.fixture
def traced_settings(settings: Settings, spans: InMemorySpanExporter) -> Settings:
    return make_settings(
        settings.database_url, settings.temporal_address, Path(settings.data_dir), tracing=True
    )


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Root logger records as a worker writes them, one JSON object a line."""
    with json_log_lines() as stream:
        yield stream


@pytest.fixture
async def traced_api(
    traced_settings: Settings, temporal_client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    """A traced API on uvicorn and a traced worker on its task queue."""
    from worker.database import database_pool, stores
    from worker.runtime import create_worker, http_client
    from worker.settings import WorkerSettings

    worker_settings = WorkerSettings(
        graceful_shutdown_seconds=0,
        egress_allow=["127.0.0.1/32"],
        DATABASE_URL=traced_settings.database_url,
        data_dir=traced_settings.data_dir,
        environment="test",
        tracing=True,
    )
    async with http_client(worker_settings) as client, database_pool(worker_settings) as pool:
        worker = create_worker(
            with_converter(temporal_client),
            worker_settings,
            task_queue=traced_settings.task_queue,
            http=client,
            stores=stores(worker_settings, pool),
        )
        with served_by_uvicorn(create_app(traced_settings)) as url:
            async with worker, httpx.AsyncClient(base_url=url, timeout=30) as http:
                yield http


def two_nodes(peer: Peer) -> dict[str, Any]:
    retry = {"max_attempts": 3, "initial_interval": "100ms"}
    return {
        "name": f"traced-{time.monotonic_ns()}",
        "nodes": [
            {"id": "call", "type": "http", "config": {"url": f"{peer.url}/hello"}, "retry": retry},
            {"id": "shape", "type": "transform", "config": {"value": "{{ nodes.call.status }}"}},
            {"id": "note", "type": "log", "config": {"message": "called"}},
        ],
        "edges": [{"from": "call", "to": "shape"}, {"from": "shape", "to": "note"}],
    }


async def finished_run(
    http: httpx.AsyncClient, actor: Actor, peer: Peer, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    created = await create_workflow(http, actor, two_nodes(peer))
    started = await http.post(
        f"{API}/workflows/{created['id']}/runs",
        json={},
        headers={**actor.headers, **(headers or {})},
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]

    async def done() -> dict[str, Any] | None:
        run: dict[str, Any] = (await http.get(f"{API}/runs/{run_id}", headers=actor.headers)).json()
        return run if run["status"] == "succeeded" else None

    return await eventually(done, what=f"run {run_id} to succeed")


def named(spans: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in spans.get_finished_spans() if span.name == name]


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent else None


async def test_a_run_is_one_trace_from_the_api_request_to_the_called_service(
    traced_api: httpx.AsyncClient,
    spans: InMemorySpanExporter,
    editor: Actor,
    peer: Peer,
    json_lines: io.StringIO,
) -> None:
    run = await finished_run(traced_api, editor, peer)

    [request] = named(spans, "POST /api/v1/workflows/{workflow_id}/runs")
    trace_id = request.context.trace_id
    assert run["trace_id"] == f"{trace_id:032x}"
    [start] = named(spans, "StartWorkflow:InterpreterWorkflow")
    assert parent_of(start) == request.context.span_id
    [in_workflow] = named(spans, "RunWorkflow:InterpreterWorkflow")
    assert parent_of(in_workflow) == start.context.span_id
    [scheduled] = named(spans, "StartActivity:http")
    [attempt] = named(spans, "RunActivity:http")
    assert parent_of(attempt) == scheduled.context.span_id
    assert {s.context.trace_id for s in (start, in_workflow, scheduled, attempt)} == {trace_id}
    described = dict(attempt.attributes or {})
    expected = {
        "flowforge.run_id": run["run_id"],
        "flowforge.workflow_id": run["workflow_id"],
        "flowforge.workflow_version": 1,
        "flowforge.node_id": "call",
        "flowforge.node_type": "http",
        "flowforge.attempt": 1,
        "flowforge.status": "succeeded",
    }
    assert {name: described.get(name) for name in expected} == expected

    [seen] = peer.requests
    sent = f"00-{trace_id:032x}-{attempt.context.span_id:016x}-{attempt.context.trace_flags:02x}"
    assert seen.headers["traceparent"] == sent

    lines = json_records(json_lines)
    [logged] = [
        line
        for line in lines
        if line.get("flowforge_node_id") == "note" and line["message"].startswith("called")
    ]
    assert logged["flowforge_run_id"] == run["run_id"]
    assert logged["trace_id"] == f"{trace_id:032x}"
    [access] = [line for line in lines if line.get("route") == request.name.split(" ")[1]]
    assert access["flowforge_workflow_id"] == run["workflow_id"]
    assert access["trace_id"] == f"{trace_id:032x}"


async def test_a_start_continues_the_callers_trace(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter, editor: Actor, peer: Peer
) -> None:
    parent = f"00-{INBOUND_TRACE}-{INBOUND_PARENT}-01"
    run = await finished_run(traced_api, editor, peer, {"traceparent": parent})

    assert run["trace_id"] == INBOUND_TRACE
    [request] = named(spans, "POST /api/v1/workflows/{workflow_id}/runs")
    assert f"{request.context.trace_id:032x}" == INBOUND_TRACE
    assert parent_of(request) == int(INBOUND_PARENT, 16)
    [attempt] = named(spans, "RunActivity:http")
    assert f"{attempt.context.trace_id:032x}" == INBOUND_TRACE
    assert peer.requests[0].headers["traceparent"].startswith(f"00-{INBOUND_TRACE}-")


async def test_each_attempt_is_a_span_of_its_own_with_its_outcome(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter, editor: Actor, peer: Peer
) -> None:
    peer.script("/hello", [Reply(503), Reply(200)])
    run = await finished_run(traced_api, editor, peer)

    attempts = sorted(
        (dict(span.attributes or {}) for span in named(spans, "RunActivity:http")),
        key=lambda described: int(str(described["flowforge.attempt"])),
    )
    assert [(a["flowforge.attempt"], a["flowforge.status"]) for a in attempts] == [
        (1, "failed"),
        (2, "succeeded"),
    ]
    assert {a["flowforge.run_id"] for a in attempts} == {run["run_id"]}
    # Each attempt sent its own span as the parent.
    assert len({seen.headers["traceparent"] for seen in peer.requests}) == 2


async def test_an_inbound_hook_call_continues_the_callers_trace(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter, editor: Actor, peer: Peer
) -> None:
    created = await create_workflow(traced_api, editor, two_nodes(peer))
    hook = (
        await traced_api.post(
            f"{API}/workflows/{created['id']}/webhooks",
            json={"require_timestamp": False},
            headers=editor.headers,
        )
    ).json()
    body = b"{}"
    called = await traced_api.post(
        f"/hooks/{hook['hook_id']}",
        content=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature": sign(hook["secret"], body),
            "traceparent": f"00-{INBOUND_TRACE}-{INBOUND_PARENT}-01",
        },
    )
    assert called.status_code == 202, called.text
    run_id = called.json()["run_id"]

    async def traced() -> str | None:
        run = (await traced_api.get(f"{API}/runs/{run_id}", headers=editor.headers)).json()
        return run["trace_id"] if run["status"] == "succeeded" else None

    assert await eventually(traced, what=f"run {run_id} to succeed") == INBOUND_TRACE
    [attempt] = named(spans, "RunActivity:http")
    assert f"{attempt.context.trace_id:032x}" == INBOUND_TRACE


async def test_outbound_traceparent_is_a_setting(
    traced_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    traced_api: httpx.AsyncClient,
    editor: Actor,
    peer: Peer,
) -> None:
    monkeypatch.setattr(tracing, "_send_outbound", False)
    await finished_run(traced_api, editor, peer)
    assert "traceparent" not in peer.requests[0].headers


async def test_with_tracing_off_nothing_is_installed(
    settings: Settings, temporal_client: Client
) -> None:
    from worker.runtime import create_worker
    from worker.settings import WorkerSettings

    worker = create_worker(with_converter(temporal_client), WorkerSettings(environment="test"))
    interceptors = worker.config()["interceptors"]
    assert not [i for i in interceptors if isinstance(i, TracingInterceptor | NodeSpanInterceptor)]
    app = create_app(settings)
    installed: list[object] = [entry.cls for entry in app.user_middleware]
    assert TracingMiddleware not in installed
    assert not tracing.enabled()


def test_with_tracing_off_the_sdk_is_never_imported() -> None:
    # A fresh interpreter: this test process imports the SDK for the other tests.
    probe = (
        "import sys, app.main, worker.main, worker.runtime, interpreter.logs; "
        "from interpreter.tracing import add_trace_context; add_trace_context({}); "
        "print(sorted(m for m in sys.modules if m.startswith("
        "('opentelemetry.sdk', 'temporalio.contrib.opentelemetry'))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]", result.stdout


@pytest.mark.fast
def test_an_exporter_that_is_not_installed_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console,zipkin-nope")
    with pytest.raises(ValueError, match=r"no exporter 'zipkin-nope' is installed.*console"):
        tracing.env_provider("flowforge-test")


def test_otel_variables_send_spans_to_an_otlp_collector(
    monkeypatch: pytest.MonkeyPatch, peer: Peer
) -> None:
    # The peer stands in for a collector: OTLP over HTTP posts protobuf to /v1/traces.
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", peer.url)
    monkeypatch.setenv("OTEL_SERVICE_NAME", "flowforge-collected")
    provider = tracing.env_provider("flowforge-test")
    provider.get_tracer("tests").start_span("probe").end()
    provider.shutdown()

    [posted] = peer.requests
    assert (posted.method, posted.path) == ("POST", "/v1/traces")
    assert {k.lower(): v for k, v in posted.headers.items()}["content-type"] == (
        "application/x-protobuf"
    )
    assert b"flowforge-collected" in posted.body
    assert b"probe" in posted.body


@pytest.mark.fast
def test_an_otlp_protocol_that_does_not_exist_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "otlp")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "carrier-pigeon")
    with pytest.raises(ValueError, match="'carrier-pigeon' is none of grpc, http/protobuf"):
        tracing.env_provider("flowforge-test")


def test_a_worker_refuses_to_start_with_an_exporter_that_is_not_installed() -> None:
    import os

    env = {
        **os.environ,
        "FLOWFORGE_ENVIRONMENT": "test",
        "FLOWFORGE_TRACING": "true",
        "OTEL_TRACES_EXPORTER": "zipkin-nope",
    }
    result = subprocess.run(
        [sys.executable, "-m", "worker"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2, result.stderr
    [line] = [json.loads(text) for text in result.stderr.splitlines() if "zipkin-nope" in text]
    assert line["message"].startswith("invalid settings: OTEL_TRACES_EXPORTER: no exporter")


def _attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


async def replays_traced_and_untraced(client: Client, run_id: str) -> None:
    """The run's history replays on a worker that traces and on one that does not."""
    from temporalio.worker import Replayer

    from interpreter.runtime.workflow import InterpreterWorkflow
    from tests.support.temporal import TEST_CONVERTER
    from worker.runtime import workflow_runner

    history = await with_converter(client).get_workflow_handle(run_id).fetch_history()
    for interceptors in ([], [tracing.temporal_interceptor(), NodeSpanInterceptor()]):
        replayer = Replayer(
            workflows=[InterpreterWorkflow],
            data_converter=TEST_CONVERTER,
            workflow_runner=workflow_runner(TEST_CONVERTER),
            interceptors=interceptors,
        )
        await replayer.replay_workflow(history)


async def test_a_scheduled_run_has_a_trace_of_its_own_shown_by_the_api(
    traced_api: httpx.AsyncClient,
    spans: InMemorySpanExporter,
    editor: Actor,
    peer: Peer,
    temporal_client: Client,
) -> None:
    created = await create_workflow(traced_api, editor, two_nodes(peer))
    answer = await traced_api.post(
        f"{API}/workflows/{created['id']}/schedules",
        json={"interval": "1s", "input": {}},
        headers=editor.headers,
    )
    assert answer.status_code == 201, answer.text
    schedule_id = answer.json()["schedule_id"]

    async def finished() -> dict[str, Any] | None:
        shown = await traced_api.get(f"{API}/schedules/{schedule_id}", headers=editor.headers)
        for started in shown.json()["recent_runs"]:
            run_url = f"{API}/runs/{started['run_id']}"
            run: dict[str, Any] = (await traced_api.get(run_url, headers=editor.headers)).json()
            if run["status"] == "succeeded":
                return run
        return None

    try:
        run = await eventually(finished, within=30, what="a scheduled run to succeed")
    finally:
        await traced_api.delete(f"{API}/schedules/{schedule_id}", headers=editor.headers)
    assert run["trigger"] == "schedule"
    trace_id = int(run["trace_id"], 16)
    [root] = [s for s in named(spans, "StartRun:schedule") if s.context.trace_id == trace_id]
    assert root.parent is None
    assert _attributes(root)["flowforge.run_id"] == run["run_id"]
    assert _attributes(root)["flowforge.workflow_id"] == run["workflow_id"]
    in_trace = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    [in_workflow] = [s for s in in_trace if s.name == "RunWorkflow:InterpreterWorkflow"]
    assert parent_of(in_workflow) == root.context.span_id
    [attempt] = [s for s in in_trace if s.name == "RunActivity:http"]
    assert _attributes(attempt)["flowforge.run_id"] == run["run_id"]
    [shaped] = [s for s in in_trace if s.name == "RunNode:transform"]
    assert parent_of(shaped) == root.context.span_id
    sent = [seen.headers["traceparent"] for seen in peer.requests]
    assert f"00-{run['trace_id']}-{attempt.context.span_id:016x}-01" in sent
    # Its trace is recorded in its history (a marker, its memo): replays agree either way.
    # (Other runs of the schedule may still be ending: count this run's trace only.)
    await replays_traced_and_untraced(temporal_client, run["run_id"])
    again = [s for s in spans.get_finished_spans() if s.context.trace_id == trace_id]
    assert len(again) == len(in_trace)


def _branches(peer: Peer) -> dict[str, Any]:
    return {
        "name": f"branches-{time.monotonic_ns()}",
        "nodes": [
            {"id": "call", "type": "http", "config": {"url": f"{peer.url}/hello"}},
            {"id": "shape", "type": "transform", "config": {"value": "{{ input.n }}"}},
            {"id": "big", "type": "condition", "config": {"expr": "input.n > 5"}},
            {
                "id": "size",
                "type": "switch",
                "config": {"cases": [{"when": "input.n > 5", "value": "big"}], "default": "small"},
            },
            {"id": "pause", "type": "wait", "config": {"duration": "300ms"}},
            {"id": "done", "type": "succeed", "config": {}},
        ],
        "edges": [
            {"from": "call", "to": "shape"},
            {"from": "shape", "to": "big"},
            {"from": "big", "to": "size"},
            {"from": "size", "to": "pause"},
            {"from": "pause", "to": "done"},
        ],
    }


async def test_each_node_the_workflow_runs_is_a_span_with_the_attempts_attributes(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter, editor: Actor, peer: Peer
) -> None:
    created = await create_workflow(traced_api, editor, _branches(peer))
    started = await traced_api.post(
        f"{API}/workflows/{created['id']}/runs", json={"input": {"n": 7}}, headers=editor.headers
    )
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]

    async def done() -> dict[str, Any] | None:
        run: dict[str, Any] = (
            await traced_api.get(f"{API}/runs/{run_id}", headers=editor.headers)
        ).json()
        return run if run["status"] == "succeeded" else None

    run = await eventually(done, what=f"run {run_id} to succeed")
    trace_id = int(run["trace_id"], 16)
    [scheduled] = named(spans, "StartActivity:http")
    by_node = {
        _attributes(s)["flowforge.node_id"]: s
        for s in spans.get_finished_spans()
        if s.name.startswith("RunNode:")
    }
    assert set(by_node) == {"shape", "big", "size", "pause", "done"}
    for node_id, span in by_node.items():
        kind = next(n["type"] for n in _branches(peer)["nodes"] if n["id"] == node_id)
        assert span.name == f"RunNode:{kind}"
        assert span.context.trace_id == trace_id
        # Where Temporal hangs each activity's span: under the run's start.
        assert span.parent is not None
        assert span.parent.span_id == parent_of(scheduled)
        expected = {
            "flowforge.run_id": run_id,
            "flowforge.workflow_id": run["workflow_id"],
            "flowforge.workflow_version": 1,
            "flowforge.node_id": node_id,
            "flowforge.node_path": node_id,
            "flowforge.node_type": kind,
            "flowforge.attempt": 1,
            "flowforge.status": "succeeded",
        }
        assert {name: _attributes(span).get(name) for name in expected} == expected
    # A wait node's span lasts its wait (in workflow time).
    waited = by_node["pause"]
    assert waited.end_time is not None
    assert waited.start_time is not None
    assert waited.end_time - waited.start_time >= 300_000_000
    # The http node has its attempts' spans, not a node span.
    assert "call" not in by_node


async def test_a_failing_node_and_a_mocked_node_have_spans_too(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter, editor: Actor, peer: Peer
) -> None:
    body = {
        "name": f"mocked-{time.monotonic_ns()}",
        "nodes": [
            {"id": "call", "type": "http", "config": {"url": f"{peer.url}/hello"}},
            {"id": "stop", "type": "fail", "config": {"message": "no luck"}},
        ],
        "edges": [{"from": "call", "to": "stop"}],
    }
    created = await create_workflow(traced_api, editor, body)
    tested = await traced_api.post(
        f"{API}/workflows/test",
        params={"wait": "true"},
        json={"workflow_id": created["id"], "mocks": {"call": {"output": {"status": 200}}}},
        headers=editor.headers,
    )
    assert tested.status_code == 200, tested.text
    assert tested.json()["status"] == "failed"
    assert peer.requests == []
    [mocked] = named(spans, "RunNode:http")
    assert _attributes(mocked)["flowforge.mocked"] is True
    assert _attributes(mocked)["flowforge.status"] == "succeeded"
    [failed] = named(spans, "RunNode:fail")
    assert _attributes(failed)["flowforge.status"] == "failed"
    assert failed.status.status_code.name == "ERROR"
    assert "no luck" in (failed.status.description or "")


async def test_with_tracing_off_a_run_has_no_node_spans_and_no_trace_id(
    http: httpx.AsyncClient,
    worker: Any,
    spans: InMemorySpanExporter,
    editor: Actor,
    peer: Peer,
    temporal_client: Client,
) -> None:
    created = await create_workflow(http, editor, two_nodes(peer))
    started = await http.post(
        f"{API}/workflows/{created['id']}/runs", json={}, headers=editor.headers
    )
    run_id = started.json()["run_id"]

    async def done() -> dict[str, Any] | None:
        run: dict[str, Any] = (
            await http.get(f"{API}/runs/{run_id}", headers=editor.headers)
        ).json()
        return run if run["status"] == "succeeded" else None

    run = await eventually(done, what=f"run {run_id} to succeed")
    assert run["trace_id"] is None
    assert spans.get_finished_spans() == ()
    await replays_traced_and_untraced(temporal_client, run_id)


async def test_a_for_each_and_its_items_nodes_have_spans_by_path(
    traced_api: httpx.AsyncClient, spans: InMemorySpanExporter, editor: Actor
) -> None:
    body = {
        "name": f"looped-{time.monotonic_ns()}",
        "nodes": [
            {
                "id": "loop",
                "type": "for_each",
                "config": {
                    "items": "[1, 2]",
                    "body": {
                        "nodes": [
                            {
                                "id": "double",
                                "type": "transform",
                                "config": {"value": "{{ item * 2 }}"},
                            }
                        ]
                    },
                },
            }
        ],
    }
    created = await create_workflow(traced_api, editor, body)
    started = await traced_api.post(
        f"{API}/workflows/{created['id']}/runs", json={}, headers=editor.headers
    )
    assert started.status_code == 202, started.text
    run = await run_becomes(traced_api, editor, started.json()["run_id"], "succeeded")
    trace_id = int(run["trace_id"], 16)
    paths = {
        _attributes(s)["flowforge.node_path"]: s.name
        for s in spans.get_finished_spans()
        if s.name.startswith("RunNode:") and s.context.trace_id == trace_id
    }
    assert paths == {
        "loop": "RunNode:for_each",
        "loop[0].double": "RunNode:transform",
        "loop[1].double": "RunNode:transform",
    }
