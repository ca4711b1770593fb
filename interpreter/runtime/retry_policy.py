"""From a node's ``retry`` block to Temporal's RetryPolicy."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutType
from temporalio.exceptions import TimeoutError as TemporalTimeout

from interpreter.dsl.definition import RetrySpec
from interpreter.dsl.durations import parse_duration


def effective_retry(spec: RetrySpec, max_attempts_cap: int) -> RetrySpec:
    """The spec with ``max_attempts`` clamped to the server's cap."""
    if spec.max_attempts <= max_attempts_cap:
        return spec
    return spec.model_copy(update={"max_attempts": max_attempts_cap})


def retry_policy(spec: RetrySpec) -> RetryPolicy:
    """Temporal's policy for ``spec``.

    Exponential and fixed backoff are Temporal's own. Linear backoff, jitter
    and ``Retry-After`` are decided by the activity per failure through
    ``ApplicationError.next_retry_delay``; the policy still bounds the
    attempts and covers retries after timeouts (at ``initial_interval``).
    """
    if spec.strategy == "none":
        return RetryPolicy(maximum_attempts=1)
    return RetryPolicy(
        initial_interval=parse_duration(spec.initial_interval),
        backoff_coefficient=spec.backoff_coefficient if spec.strategy == "exponential" else 1.0,
        maximum_interval=parse_duration(spec.max_interval),
        maximum_attempts=spec.max_attempts,
        non_retryable_error_types=list(spec.non_retryable_errors) or None,
    )


RETRIED_TIMEOUTS = (TimeoutType.START_TO_CLOSE, TimeoutType.HEARTBEAT)
"""Timeouts of one attempt, which Temporal retries; a timeout over all attempts is final."""


def retry_delay(policy: RetryPolicy, attempt: int, error: ActivityError) -> timedelta | None:
    """The wait before the attempt after ``attempt`` failed with ``error``; None: no retry.

    Temporal's own rule, for the attempts the workflow makes itself (a local
    activity node, see :mod:`interpreter.runtime.activity_call`): the attempts
    are bounded, non-retryable errors stop at once, an activity's
    ``next_retry_delay`` wins, and otherwise the interval grows by the
    coefficient up to the maximum.
    """
    if policy.maximum_attempts and attempt >= policy.maximum_attempts:
        return None
    cause = error.cause
    if isinstance(cause, ApplicationError):
        if cause.non_retryable or cause.type in (policy.non_retryable_error_types or ()):
            return None
        if cause.next_retry_delay:
            return cause.next_retry_delay
    elif isinstance(cause, TemporalTimeout) and cause.type not in RETRIED_TIMEOUTS:
        return None
    delay = policy.initial_interval * policy.backoff_coefficient ** (attempt - 1)
    return min(delay, policy.maximum_interval) if policy.maximum_interval else delay
