"""What a node's error says once Temporal gave up on its activity, by the way it ended."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    RetryState,
    TimeoutType,
)
from temporalio.exceptions import (
    TimeoutError as TemporalTimeout,
)

from interpreter.runtime.activity_errors import ActivityTimeouts, activity_failure

pytestmark = pytest.mark.fast

TIMEOUTS = ActivityTimeouts(start_to_close=timedelta(seconds=30), heartbeat=timedelta(seconds=10))


def ended(
    cause: BaseException, retry_state: RetryState = RetryState.MAXIMUM_ATTEMPTS_REACHED
) -> ActivityError:
    error = ActivityError(
        "activity error",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker-1",
        activity_type="http",
        activity_id="call",
        retry_state=retry_state,
    )
    error.__cause__ = cause
    return error


def timed_out(
    kind: TimeoutType, retry_state: RetryState = RetryState.MAXIMUM_ATTEMPTS_REACHED
) -> ActivityError:
    return ended(TemporalTimeout("timed out", type=kind, last_heartbeat_details=[]), retry_state)


def test_a_lost_worker_is_worker_lost_naming_the_heartbeat_not_a_timeout_of_the_call() -> None:
    error, attempts = activity_failure(timed_out(TimeoutType.HEARTBEAT), 1, TIMEOUTS)
    assert error.type == "WorkerLost"
    assert error.message.startswith(
        "the worker running this node stopped answering (no heartbeat for 10s"
    )
    assert "start_to_close" not in error.message
    assert "that was its last attempt (retry.max_attempts: 1), so it was not retried" in (
        error.message
    )
    assert error.details == {"timeout": "heartbeat", "timeout_seconds": 10.0}
    assert attempts == 1


def test_a_lost_worker_on_the_last_of_three_attempts_counts_three() -> None:
    error, attempts = activity_failure(timed_out(TimeoutType.HEARTBEAT), 3, TIMEOUTS)
    assert error.type == "WorkerLost"
    assert "retry.max_attempts: 3" in error.message
    assert attempts == 3


def test_an_attempt_past_its_timeout_names_the_timeout() -> None:
    error, _ = activity_failure(timed_out(TimeoutType.START_TO_CLOSE), 2, TIMEOUTS)
    assert error.type == "Timeout"
    assert error.message.startswith("the node's attempt took longer than its timeout (30s)")
    assert error.details == {"timeout": "start_to_close", "timeout_seconds": 30.0}


def test_no_worker_picking_the_node_up_says_so() -> None:
    error, _ = activity_failure(timed_out(TimeoutType.SCHEDULE_TO_START), 1, TIMEOUTS)
    assert error.type == "Timeout"
    assert error.message == (
        "no worker picked up the node in time: is a worker polling its task queue?"
    )
    timeouts = dataclasses.replace(TIMEOUTS, schedule_to_close=timedelta(minutes=2))
    error, _ = activity_failure(timed_out(TimeoutType.SCHEDULE_TO_START), 1, timeouts)
    assert error.message.startswith("no worker picked up the node within 120s")
    assert error.details == {"timeout": "schedule_to_start", "timeout_seconds": 120.0}


def test_a_lost_worker_with_no_total_time_left_says_the_total_timeout_ended_it() -> None:
    timeouts = ActivityTimeouts(
        start_to_close=timedelta(seconds=30),
        heartbeat=timedelta(seconds=10),
        schedule_to_close=timedelta(minutes=1),
    )
    error, _ = activity_failure(timed_out(TimeoutType.HEARTBEAT, RetryState.TIMEOUT), 5, timeouts)
    assert error.type == "WorkerLost"
    assert error.message.endswith("its total_timeout (60s) left no time to retry it")


def test_the_total_timeout_running_out_names_it() -> None:
    timeouts = ActivityTimeouts(
        start_to_close=timedelta(seconds=30),
        heartbeat=timedelta(seconds=1.5),
        schedule_to_close=timedelta(seconds=90),
    )
    error, _ = activity_failure(
        timed_out(TimeoutType.SCHEDULE_TO_CLOSE, RetryState.TIMEOUT), 5, timeouts
    )
    assert error.type == "Timeout"
    assert error.message == "the node ran past its total_timeout (90s) over all its attempts"


def test_runs_recorded_before_the_named_limits_keep_their_terse_timeout() -> None:
    error, _ = activity_failure(timed_out(TimeoutType.HEARTBEAT), 1)
    assert error.type == "Timeout"
    assert error.message == "activity heartbeat timeout exceeded"


def test_a_node_failure_keeps_its_type_details_and_attempt() -> None:
    cause = ApplicationError("node 'call': HTTP 503", {"status": 503, "attempt": 2}, type="X")
    error, attempts = activity_failure(ended(cause), 3, TIMEOUTS)
    assert (error.type, error.message, error.details) == (
        "X",
        "node 'call': HTTP 503",
        {"status": 503},
    )
    assert attempts == 2
