"""A trace of its own for a run started without one (a schedule's): its ids, and its memo.

A run started by the API while it traces continues the API's trace (the
``_tracer-data`` header Temporal's interceptor puts on the start). A run
started untraced, as a Temporal Schedule starts every run, had none, so each
of its activity attempts made a trace of its own. Instead, when its worker
traces, such a run makes its own trace: the worker emits a root span with ids
derived from the run's workflow and run ids, Temporal's spans of the run hang
under it, and the workflow keeps the trace id in its memo
(``TRACE_ID_MEMO``) for ``GET /runs/{id}`` to show.

Whether a run has such a trace must be the same on every replay, whatever
the replaying worker's settings: the first execution decides (its worker
traces or not) and records the decision as a ``workflow.patched`` marker,
which replays read back. Runs recorded before this, or by untraced workers,
have no marker and replay unchanged.
"""

from __future__ import annotations

import hashlib

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from interpreter.contract.client import TRACE_ID_MEMO
    from interpreter.contract.run import RunInput

TRACE_HEADER = "_tracer-data"
"""The start header Temporal's ``TracingInterceptor`` carries a run's trace context in."""
TRACE_ROOT_PATCH = "flowforge-trace-root"
NODE_SPAN_EXTERN = "__flowforge_node_span"
"""Extern function a tracing worker gives its workflows: one span per workflow-side node."""
TRACE_ROOT_EXTERN = "__flowforge_trace_root"
"""Extern function a tracing worker gives its workflows: the root span of a run's own trace."""


def worker_traces() -> bool:
    """Whether the worker running this workflow traces (it gave the extern functions)."""
    return NODE_SPAN_EXTERN in workflow.extern_functions()


def trace_root(run: RunInput) -> tuple[int, int] | None:
    """The trace id and root span id of the run's own trace; None if it has none.

    A run has one when it is a top-level run started without a trace context
    and the worker of its first execution traced it (see the module docstring).
    """
    info = workflow.info()
    if run.batch is not None or run.carry is not None or info.parent is not None:
        return None
    if TRACE_HEADER in info.headers:
        return None
    if not (workflow.unsafe.is_replaying() or worker_traces()):
        return None
    if not workflow.patched(TRACE_ROOT_PATCH):
        return None
    digest = hashlib.sha256(f"{info.workflow_id}/{info.run_id}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1, int.from_bytes(digest[16:24], "big") or 1


def record_trace_root(run: RunInput) -> None:
    """Keep the id of the run's own trace in its memo, when it has one."""
    ids = trace_root(run)
    if ids is not None:
        workflow.upsert_memo({TRACE_ID_MEMO: f"{ids[0]:032x}"})
