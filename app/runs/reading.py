"""What Temporal knows of runs: describe, the status query, the input, visibility lists."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecution,
    WorkflowExecutionDescription,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.service import RPCError, RPCStatusCode

from app.runs.attempts import counts_from_stats
from app.runs.links import temporal_link
from app.runs.schemas import RunSummary, RunTrigger
from app.runs.status import run_status, status_filter
from app.settings import Settings
from interpreter.contract import search_attributes as sa
from interpreter.contract.client import NODE_STATS_MEMO, STATUS_QUERY, TRACE_ID_MEMO, WORKFLOW_TYPE
from interpreter.contract.rollout import ARM_MEMO
from interpreter.contract.run import RunSnapshot, RunStatus

logger = logging.getLogger(__name__)


async def describe(
    client: Client, run_id: str, rpc_timeout: timedelta
) -> WorkflowExecutionDescription | None:
    """The newest execution of run ``run_id``, or None if there is no FlowForge run by that id."""
    try:
        description = await client.get_workflow_handle(run_id).describe(rpc_timeout=rpc_timeout)
    except RPCError as exc:
        if exc.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            return None
        raise
    return description if description.workflow_type == WORKFLOW_TYPE else None


def owner_of(execution: WorkflowExecution) -> str | None:
    """The id of the user who owns the run (its owner search attribute); None if unset."""
    return execution.typed_search_attributes.get(sa.OWNER)


def summary(execution: WorkflowExecution, settings: Settings) -> RunSummary:
    """A run as lists show it, from its visibility record alone (no status query)."""
    attrs = execution.typed_search_attributes
    return RunSummary(
        run_id=execution.id,
        workflow_id=attrs.get(sa.WORKFLOW_ID),
        version=attrs.get(sa.VERSION),
        status=run_status(execution.status, attrs.get(sa.STATUS)),
        owner_id=attrs.get(sa.OWNER),
        trigger=attrs.get(sa.TRIGGER),
        started_at=execution.start_time,
        ended_at=execution.close_time,
        temporal=temporal_link(settings, execution.id, execution.run_id),
    )


async def summary_counts(execution: WorkflowExecution) -> dict[str, int] | None:
    """Nodes by status from the stats a finished run leaves in its memo; None for open runs."""
    if execution.close_time is None:
        return None
    try:
        memo = await execution.memo()
    except Exception as exc:  # a memo this API cannot decode is not worth failing a list for
        logger.warning("memo of run %s unreadable: %s", execution.id, exc)
        return None
    return counts_from_stats(memo.get(NODE_STATS_MEMO))


async def _memo_text(execution: WorkflowExecution, key: str) -> str | None:
    if not execution.raw_info.memo.fields.get(key):
        return None
    try:
        value = await execution.memo_value(key, default=None)
    except Exception as exc:  # as summary_counts: an unreadable memo fails no read
        logger.warning("memo of run %s unreadable: %s", execution.id, exc)
        return None
    return value if isinstance(value, str) else None


async def trace_id(execution: WorkflowExecution) -> str | None:
    """The run's trace id (its memo), or None: started and run with tracing off.

    The memo holds it because it is set once and kept with the run by
    Temporal: no table to keep it in, nothing to set while off. The start
    sets it when the API traced the start; a run started untraced (by a
    schedule) sets it itself when its worker traces it
    (:mod:`interpreter.runtime.trace_root`).
    """
    return await _memo_text(execution, TRACE_ID_MEMO)


async def placed_arm(execution: WorkflowExecution) -> str | None:
    """The rollout arm a run placed itself on (a schedule's run: its memo), or None."""
    return await _memo_text(execution, ARM_MEMO)


async def snapshot(handle: WorkflowHandle[Any, Any], rpc_timeout: timedelta) -> RunSnapshot | None:
    """The run's own account of itself, or None if no worker answered the query."""
    try:
        result: RunSnapshot = await handle.query(
            STATUS_QUERY, result_type=RunSnapshot, rpc_timeout=rpc_timeout
        )
    except (WorkflowQueryFailedError, RPCError) as exc:
        logger.warning("status query of run %s failed: %s", handle.id, exc)
        return None
    return result


async def start_value(client: Client, handle: WorkflowHandle[Any, Any]) -> dict[str, Any] | None:
    """The run's start input as JSON (not validated), read from its first history event."""
    async for event in handle.fetch_history_events(page_size=1):
        payloads = event.workflow_execution_started_event_attributes.input.payloads
        values = await client.data_converter.decode(payloads) if payloads else []
        started = values[0] if values else None
        return started if isinstance(started, dict) else None
    return None


async def run_input(client: Client, handle: WorkflowHandle[Any, Any]) -> Any:
    """The ``input`` the run was started with."""
    started = await start_value(client, handle)
    return started.get("input") if started else None


def visibility_query(
    *,
    workflow_id: uuid.UUID | None,
    status: RunStatus | Sequence[RunStatus] | None,
    owner_id: uuid.UUID | None,
    failed_only: bool = False,
    trigger: RunTrigger | None = None,
    started_after: datetime | None = None,
    started_before: datetime | None = None,
    test: bool = False,
) -> str:
    """A visibility query for FlowForge runs: test runs only if ``test``, else none of them.

    Test runs (trigger ``test``) are left out of every list, the failures inbox
    and metrics unless asked for; whoever asks drops those past their retention.

    ``status`` may be several (any of them matches); ``failed_only`` keeps the
    runs that need a look: failed, timed out, or suspended on a failed node.
    Only UUIDs, enum values and formatted datetimes are interpolated, never
    free text, so nothing can inject query syntax.
    """
    clauses = [f"WorkflowType = '{WORKFLOW_TYPE}'", "ExecutionStatus != 'ContinuedAsNew'"]
    if workflow_id is not None:
        clauses.append(f"{sa.WORKFLOW_ID.name} = '{workflow_id}'")
    if owner_id is not None:
        clauses.append(f"{sa.OWNER.name} = '{owner_id}'")
    statuses = [status] if isinstance(status, RunStatus) else list(status or ())
    if statuses:
        clauses.append(_any_of(statuses))
    if failed_only:
        clauses.append(_any_of([RunStatus.FAILED, RunStatus.TIMED_OUT, RunStatus.SUSPENDED]))
    if trigger is not None:
        clauses.append(f"{sa.TRIGGER.name} = '{RunTrigger(trigger).value}'")
    clauses.append(f"{sa.TRIGGER.name} {'=' if test else '!='} '{RunTrigger.TEST.value}'")
    if started_after is not None:
        clauses.append(f"StartTime >= '{_rfc3339(started_after)}'")
    if started_before is not None:
        clauses.append(f"StartTime < '{_rfc3339(started_before)}'")
    return " AND ".join(clauses)


def batch_query(run_id: str, node_id: str) -> str:
    """A visibility query for the batch child runs of ``run_id``'s for_each node ``node_id``.

    A batch's id is ``{run_id}/{node_id}/{first item}``. The caller passes a run
    id Temporal described and a node id matching the DSL's pattern, so neither
    can carry a quote; a batch's own children (``…/0/sub``) match the prefix
    too and are dropped by :func:`batch_first_item`.
    """
    return (
        f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus != 'ContinuedAsNew' "
        f"AND WorkflowId STARTS_WITH '{run_id}/{node_id}/'"
    )


def batch_first_item(run_id: str, node_id: str, child_id: str) -> int | None:
    """The first item of batch ``child_id`` of the node, or None if it is no batch of it."""
    rest = child_id.removeprefix(f"{run_id}/{node_id}/")
    return int(rest) if rest != child_id and rest.isdigit() else None


def _any_of(statuses: Sequence[RunStatus]) -> str:
    unique = list(dict.fromkeys(RunStatus(status) for status in statuses))
    if len(unique) == 1:
        return status_filter(unique[0])
    return "(" + " OR ".join(f"({status_filter(status)})" for status in unique) + ")"


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _rfc3339(moment: datetime) -> str:
    """``moment`` as visibility queries take it; no run starts before 1970, so earlier is 1970."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        aware = max(aware.astimezone(UTC), _EPOCH)
    except OverflowError:  # within a day of year 1 or year 9999, past UTC's range
        aware = _EPOCH if aware.year < 1970 else datetime.max.replace(tzinfo=UTC)
    return aware.isoformat(timespec="microseconds").replace("+00:00", "Z")


async def list_runs(
    client: Client, query: str, *, limit: int, rpc_timeout: timedelta
) -> list[WorkflowExecution]:
    """Every execution matching ``query``, at most ``limit`` of them, in pages of up to 1,000."""
    listing = client.list_workflows(
        query, limit=limit, page_size=min(limit, 1000), rpc_timeout=rpc_timeout
    )
    return [execution async for execution in listing]


async def list_page(
    client: Client, query: str, *, limit: int, token: bytes | None, rpc_timeout: timedelta
) -> tuple[list[WorkflowExecution], bytes | None]:
    """One page of executions matching ``query``, and the token of the next page."""
    executions = client.list_workflows(
        query, page_size=limit, next_page_token=token, rpc_timeout=rpc_timeout
    )
    await executions.fetch_next_page()
    return list(executions.current_page or []), executions.next_page_token
