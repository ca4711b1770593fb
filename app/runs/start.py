"""Starting a run on Temporal, at most once per idempotency key."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from interpreter import tracing
from interpreter.contract.client import TRACE_ID_MEMO, start_run
from interpreter.contract.run import RunInput


@dataclass(frozen=True)
class Started:
    """The outcome of a start.

    Attributes:
        run_id: The Temporal workflow id (what users call the run id).
        temporal_run_id: Temporal's run id of that execution.
        created: False when an idempotent start found the run already there.
    """

    run_id: str
    temporal_run_id: str | None
    created: bool


async def start_once(
    client: Client,
    run: RunInput,
    *,
    run_id: str,
    task_queue: str,
    idempotent: bool,
    rpc_timeout: timedelta,
) -> Started:
    """Start ``run`` as workflow ``run_id``.

    With ``idempotent``, ``run_id`` is derived from the idempotency key and
    Temporal itself refuses a second execution with that id, whether the first
    is still running or closed (FAIL conflict policy, REJECT_DUPLICATE reuse
    policy): the refusal names the existing execution, which is returned with
    ``created=False``. Temporal's atomic id check makes a lock of ours needless,
    and unlike USE_EXISTING the refusal says whether this call started the run.

    While tracing, the run keeps its trace id in its memo (``TRACE_ID_MEMO``)
    for the API to show.
    """
    trace_id = tracing.current_trace_id()
    memo = {"memo": {TRACE_ID_MEMO: trace_id}} if trace_id else {}
    try:
        handle = await start_run(
            client,
            run,
            id=run_id,
            task_queue=task_queue,
            rpc_timeout=rpc_timeout,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            **memo,
        )
    except WorkflowAlreadyStartedError as exc:
        if not idempotent:
            raise
        return Started(run_id=run_id, temporal_run_id=exc.run_id, created=False)
    return Started(run_id=run_id, temporal_run_id=handle.result_run_id, created=True)
