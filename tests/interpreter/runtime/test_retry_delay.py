"""The waits between a local activity node's attempts, which the workflow decides itself."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeout

from interpreter.dsl.definition import RetrySpec
from interpreter.runtime.retry_policy import retry_delay, retry_policy

pytestmark = pytest.mark.fast


def failed(cause: BaseException) -> ActivityError:
    error = ActivityError(
        "activity error",
        scheduled_event_id=0,
        started_event_id=0,
        identity="",
        activity_type="http",
        activity_id="call",
        retry_state=None,
    )
    error.__cause__ = cause
    return error


def timed_out(kind: TimeoutType) -> ActivityError:
    return failed(TemporalTimeout("timed out", type=kind, last_heartbeat_details=[]))


BUSY = failed(ApplicationError("503", type="HttpStatusError"))


def test_exponential_waits_grow_by_the_coefficient_up_to_the_maximum() -> None:
    policy = retry_policy(RetrySpec(max_attempts=10, initial_interval="1s", max_interval="5s"))
    waits = [retry_delay(policy, attempt, BUSY) for attempt in range(1, 6)]
    assert waits == [timedelta(seconds=s) for s in (1, 2, 4, 5, 5)]


def test_fixed_and_linear_wait_the_initial_interval_unless_the_activity_says() -> None:
    for strategy in ("fixed", "linear"):
        policy = retry_policy(RetrySpec(strategy=strategy, initial_interval="300ms"))
        assert retry_delay(policy, 2, BUSY) == timedelta(milliseconds=300)
    later = failed(
        ApplicationError("429", type="HttpStatusError", next_retry_delay=timedelta(seconds=7))
    )
    assert retry_delay(retry_policy(RetrySpec()), 1, later) == timedelta(seconds=7)


def test_no_retry_after_the_last_attempt_a_non_retryable_error_or_a_total_timeout() -> None:
    policy = retry_policy(RetrySpec(max_attempts=3, non_retryable_errors=["ConfigError"]))
    assert retry_delay(policy, 3, BUSY) is None
    assert retry_delay(policy, 1, failed(ApplicationError("x", non_retryable=True))) is None
    assert retry_delay(policy, 1, failed(ApplicationError("x", type="ConfigError"))) is None
    total = failed(
        TemporalTimeout("t", type=TimeoutType.SCHEDULE_TO_CLOSE, last_heartbeat_details=[])
    )
    assert retry_delay(policy, 1, total) is None
    attempt = failed(
        TemporalTimeout("t", type=TimeoutType.START_TO_CLOSE, last_heartbeat_details=[])
    )
    assert retry_delay(policy, 1, attempt) == timedelta(seconds=1)
    assert retry_delay(retry_policy(RetrySpec(strategy="none")), 1, BUSY) is None
