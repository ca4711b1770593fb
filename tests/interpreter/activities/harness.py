"""Run node activities in the SDK's activity harness (real activity context, no worker)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from interpreter.activities import ActivityRequest, ActivityResult
from interpreter.dsl.definition import RetrySpec

Activity = Callable[[ActivityRequest], Awaitable[ActivityResult]]


def node_request(
    config: dict[str, Any],
    *,
    node_type: str = "http",
    retry: RetrySpec | None = None,
    idempotency_key: str | None = None,
    context: dict[str, Any] | None = None,
    owner: str = "user-1",
    circuit_breaker: str | None = None,
) -> ActivityRequest:
    return ActivityRequest(
        run_id="run-1",
        node_id="call",
        node_path="call",
        node_type=node_type,
        config=config,
        retry=retry or RetrySpec(),
        idempotency_key=idempotency_key,
        context=context or {},
        owner=owner,
        circuit_breaker=circuit_breaker,
    )


def environment(*, attempt: int = 1, timeout: float = 10.0) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, attempt=attempt, start_to_close_timeout=timedelta(seconds=timeout)
    )
    return env


async def run(activity: Activity, request: ActivityRequest, **env: Any) -> Any:
    """The activity's output (the envelope is checked and unwrapped)."""
    result = await environment(**env).run(activity, request)
    assert isinstance(result, ActivityResult)
    return result.output


async def fail(activity: Activity, request: ActivityRequest, **env: Any) -> ApplicationError:
    """The ``ApplicationError`` the activity raised."""
    with pytest.raises(ApplicationError) as raised:
        await environment(**env).run(activity, request)
    return raised.value
