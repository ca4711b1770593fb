"""How each kind of node is carried out from inside the workflow."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.workflow import ActivityCancellationType

from interpreter.activities.base import ActivityRequest, ActivityResult
from interpreter.activities.secrets import SECRET_READERS
from interpreter.contract.run import RunInput
from interpreter.dsl.definition import Node, RetrySpec
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.holes import render
from interpreter.errors import EvaluationError
from interpreter.nodes import pure
from interpreter.nodes.registry import NodeKind
from interpreter.runtime.retry_policy import effective_retry, retry_policy

SECRET_ROOTS = ("secrets",)
"""Holes that read these are rendered inside the activity, never in history."""


@dataclass(frozen=True)
class PureOutcome:
    output: Any = None
    succeed: bool = False
    fail: str | None = None


def run_pure(node_type: str, config: Mapping[str, Any], variables: dict[str, Any]) -> PureOutcome:
    """Evaluate an interpreter-side node (not ``wait``: that one needs a timer)."""
    where = "config"
    if node_type == "transform":
        return PureOutcome(pure.run_transform(config, variables, where))
    if node_type == "condition":
        return PureOutcome(pure.run_condition(config, variables, where))
    if node_type == "switch":
        return PureOutcome(pure.run_switch(config, variables, where))
    if node_type == "succeed":
        return PureOutcome(render(config.get("output"), variables, where=f"{where}/output"), True)
    if node_type == "fail":
        message = render(config.get("message", "failed by a fail node"), variables, where=where)
        return PureOutcome(fail=str(message))
    raise EvaluationError(f"node type {node_type!r} cannot run in the interpreter")


def wait_delay(config: Mapping[str, Any], variables: dict[str, Any], now: datetime) -> timedelta:
    rendered = render(dict(config), variables, where="config")
    try:
        if rendered.get("duration") is not None:
            return parse_duration(str(rendered["duration"]))
        until = datetime.fromisoformat(str(rendered["until"]).replace("Z", "+00:00"))
    except (ValueError, KeyError) as exc:
        raise EvaluationError(f"config: {exc}") from None
    if until.tzinfo is None:
        raise EvaluationError("config/until: give a time zone (RFC 3339), e.g. ...Z")
    return max(until - now, timedelta(0))


@dataclass(frozen=True)
class ActivityCall:
    """One activity node, ready to execute."""

    activity: str
    request: ActivityRequest
    retry: RetrySpec
    options: dict[str, Any]

    async def execute(self) -> ActivityResult:
        result: ActivityResult = await workflow.execute_activity(
            self.activity, self.request, result_type=ActivityResult, **self.options
        )
        return result


def activity_call(
    node: Node, kind: NodeKind, run: RunInput, variables: dict[str, Any], run_id: str, path: str
) -> ActivityCall:
    """Render the node's config and build the activity's request and options.

    Raises:
        EvaluationError: a template in the config failed.
    """
    assert kind.activity is not None
    defaults = run.definition.defaults
    retry = effective_retry(node.retry or defaults.retry, run.options.max_attempts_cap)
    defer = SECRET_ROOTS if kind.name in SECRET_READERS else ()
    config = render(node.config, variables, where="config", defer=defer)
    key = None
    if node.idempotency:
        key = hashlib.sha256(f"{run_id}:{path}".encode()).hexdigest()
    request = ActivityRequest(
        run_id=run_id,
        node_id=node.id,
        node_path=path,
        node_type=kind.name,
        config=config,
        retry=retry,
        idempotency_key=key,
        context=variables if kind.context_in_activity else {},
        owner=run.meta.owner,
        circuit_breaker=node.circuit_breaker,
    )
    options: dict[str, Any] = {
        "activity_id": path,
        "task_queue": node.task_queue or run.options.activity_task_queue or None,
        "start_to_close_timeout": parse_duration(node.timeout or defaults.timeout),
        "heartbeat_timeout": timedelta(seconds=run.options.heartbeat_timeout_seconds),
        "retry_policy": retry_policy(retry),
        "cancellation_type": ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        "summary": f"{path} ({node.type})",
    }
    if node.total_timeout:
        options["schedule_to_close_timeout"] = parse_duration(node.total_timeout)
    return ActivityCall(kind.activity, request, retry, options)
