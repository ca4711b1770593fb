"""Reading a run's status through the process's cache of ended runs' (``app.core.snapshots``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.client import WorkflowExecutionDescription, WorkflowHandle

from app.core.snapshots import ClosedSnapshots
from app.runs.reading import snapshot
from interpreter.contract.run import RunSnapshot


async def run_snapshot(
    cache: ClosedSnapshots,
    handle: WorkflowHandle[Any, Any],
    description: WorkflowExecutionDescription,
    query_timeout: timedelta,
) -> RunSnapshot | None:
    """The run's snapshot (see :func:`~app.runs.reading.snapshot`), from ``cache`` once it ended.

    ``description`` is the execution ``handle`` names, described before: if it
    had ended then, the snapshot asked now is final and is kept.
    """
    if description.close_time is None or not description.run_id:
        return await snapshot(handle, query_timeout)
    key = (description.id, description.run_id)
    kept = cache.get(key)
    if kept is not None:
        return kept
    snap = await snapshot(handle, query_timeout)
    if snap is not None:
        cache.put(key, snap)
    return snap
