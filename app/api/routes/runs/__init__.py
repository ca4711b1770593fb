"""Every route about runs, one module per concern, merged into one router.

- ``start``: starting a run of a workflow (``POST /workflows/{id}/runs``).
- ``read``: the run list (Temporal visibility) and one run in detail.
- ``lifecycle``: pause, resume, cancel, terminate.
- ``signals``: payloads for ``wait_for_signal`` nodes.
- ``nodes``: one node's detail; retry or skip it when the run is suspended on it.
- ``stream``: live status changes as Server-Sent Events.
- ``rerun``: the same pinned definition and input again, optionally from one node on.
- ``redrive``: failed runs in bulk, each from its failing node (``POST /runs/redrive``).
- ``outputs``: a run's output and one node's output in full (the run view caps them).
- ``debug``: breakpoints, the held node's scope, and stepping.
"""

from __future__ import annotations

from fastapi import APIRouter

from app.api.routes.runs import (
    debug,
    lifecycle,
    nodes,
    outputs,
    read,
    redrive,
    rerun,
    signals,
    start,
    stream,
)

router = APIRouter()
for module in (start, redrive, read, lifecycle, signals, nodes, outputs, stream, rerun, debug):
    router.include_router(module.router)
