"""From a node's ``retry`` block to Temporal's RetryPolicy."""

from __future__ import annotations

from temporalio.common import RetryPolicy

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
