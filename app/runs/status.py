"""A run's status from Temporal's execution status and the run's own report.

The interpreter upserts ``FlowForgeStatus`` as it goes (running, paused,
suspended, and its final status), but a terminated or timed-out run never
gets to: Temporal's closed statuses therefore win over anything reported.
"""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus as Exec

from interpreter.contract.run import RunStatus

_CLOSED = {
    Exec.COMPLETED: RunStatus.SUCCEEDED,
    Exec.FAILED: RunStatus.FAILED,
    Exec.CANCELED: RunStatus.CANCELLED,
    Exec.TERMINATED: RunStatus.TERMINATED,
    Exec.TIMED_OUT: RunStatus.TIMED_OUT,
}
_OPEN = (RunStatus.RUNNING, RunStatus.PAUSED, RunStatus.SUSPENDED)

# Visibility names of the closed statuses, for list filters.
_CLOSED_QUERY = {
    RunStatus.SUCCEEDED: "Completed",
    RunStatus.FAILED: "Failed",
    RunStatus.CANCELLED: "Canceled",
    RunStatus.TERMINATED: "Terminated",
    RunStatus.TIMED_OUT: "TimedOut",
}


def run_status(execution: Exec | None, reported: str | None) -> RunStatus:
    """The status to show, given Temporal's ``execution`` status and the ``reported`` one."""
    closed = _CLOSED.get(execution) if execution is not None else None
    if closed is not None:
        return closed
    if reported in _OPEN:
        return RunStatus(reported)
    return RunStatus.RUNNING


def is_open(status: RunStatus) -> bool:
    """Whether a run in ``status`` has not finished (running, paused or suspended)."""
    return status in _OPEN


def status_filter(status: RunStatus) -> str:
    """A visibility query clause matching runs shown with ``status``."""
    if status in _CLOSED_QUERY:
        return f"ExecutionStatus = '{_CLOSED_QUERY[status]}'"
    return f"ExecutionStatus = 'Running' AND FlowForgeStatus = '{status.value}'"
