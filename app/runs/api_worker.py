"""The API process's own Temporal worker: redrive batches, on the API's task queue.

Interpreter workers may not import the API (they never reach its database
the way it does), so bulk work that needs the API's services runs here:
each API replica polls ``Settings.api_queue`` while it serves. The client
connects lazily, so the worker waits for Temporal as the API does instead of
keeping it from starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from app.core.state import AppState
from app.core.temporal import TemporalUnavailable
from app.runs.redrive_activity import RedriveActivity
from app.runs.redrive_batch import RedriveBatchWorkflow

log = logging.getLogger(__name__)

_RECONNECT_SECONDS = 5.0
_STOP_SECONDS = 5.0
"""How long shutting down waits for the worker's polls to return before leaving them."""


def api_worker(state: AppState, client: Client) -> Worker:
    """A worker of the batch workflow and its activity for ``state``'s process."""
    return Worker(
        client,
        task_queue=state.settings.api_queue,
        workflows=[RedriveBatchWorkflow],
        activities=[RedriveActivity(state).redrive_run],
        max_concurrent_activities=state.settings.redrive_concurrency,
        # Nothing is lost by not waiting: an attempt cut short is retried on
        # another replica, and finds the run it may already have started.
        graceful_shutdown_timeout=timedelta(0),
        workflow_runner=batch_runner(),
    )


def batch_runner() -> UnsandboxedWorkflowRunner:
    """How the batch workflow runs (the worker and replays share it): outside the sandbox.

    The sandbox re-imports a workflow's modules to check them when the worker is
    built, CPU work on the API's event loop that stalled every request for a
    second or more as the API started. The batch workflow is a few lines of
    the API's own, deterministic by construction (no clock, no I/O, no
    randomness: only activities and workflow.wait_condition), so the sandbox's
    guard buys little there.
    """
    return UnsandboxedWorkflowRunner()


async def _serve(state: AppState) -> None:
    while True:
        try:
            client = await state.temporal.client()
        except TemporalUnavailable as exc:
            log.warning("redrive batches wait for Temporal: %s", exc)
            await asyncio.sleep(_RECONNECT_SECONDS)
            continue
        try:
            await api_worker(state, client).run()
            return
        except Exception:
            log.exception("the API's worker stopped; it starts again")
            await asyncio.sleep(_RECONNECT_SECONDS)


@contextlib.asynccontextmanager
async def serving_batches(state: AppState) -> AsyncIterator[None]:
    """Run the API's worker while the block runs; stop it (and any attempt in flight) after."""
    task = asyncio.create_task(_serve(state), name="flowforge-api-worker")
    try:
        yield
    finally:
        task.cancel()
        # A long poll may not return at once on cancellation; the process is
        # stopping anyway, and nothing is lost (attempts are retried elsewhere).
        done, _ = await asyncio.wait({task}, timeout=_STOP_SECONDS)
        if not done:
            log.warning("the API's worker did not stop within %gs; leaving it", _STOP_SECONDS)
