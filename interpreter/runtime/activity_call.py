"""An activity node as the activity call the workflow makes: request, retry and options.

The config is rendered here, except the holes that read ``secrets``: those are
left for the activity, so secret values never enter the run's history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError
from temporalio.workflow import ActivityCancellationType

from interpreter.activities.base import ActivityRequest, ActivityResult, execution_key
from interpreter.activities.secrets import SECRET_ROOT
from interpreter.contract.run import NodeError, RunInput
from interpreter.dsl.definition import Node, RetrySpec
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.holes import render
from interpreter.nodes import NodeKind
from interpreter.run_proof import ProofSubject
from interpreter.runtime.activity_errors import ActivityTimeouts, activity_failure
from interpreter.runtime.retry_policy import effective_retry, retry_policy

TIMEOUT_ERRORS_PATCH = "timeout-errors-name-their-limit"
"""Runs recorded before it gave every timed-out node the terse ``Timeout`` error; an edge's
``when`` may read the error, so replays of those runs keep it."""


@dataclass(frozen=True)
class ActivityCall:
    """One activity node, ready to execute."""

    activity: str
    request: ActivityRequest
    retry: RetrySpec
    options: dict[str, Any]

    async def execute(self) -> ActivityResult:
        """Execute the activity with its retries; raises ActivityError once it fails for good."""
        result: ActivityResult = await workflow.execute_activity(
            self.activity, self.request, result_type=ActivityResult, **self.options
        )
        return result

    @property
    def timeouts(self) -> ActivityTimeouts:
        """The timeouts the activity is scheduled with."""
        return ActivityTimeouts(
            start_to_close=self.options["start_to_close_timeout"],
            heartbeat=self.options["heartbeat_timeout"],
            schedule_to_close=self.options.get("schedule_to_close_timeout"),
            schedule_to_start=self.options.get("schedule_to_start_timeout"),
        )

    def failure(self, error: ActivityError) -> tuple[NodeError, int]:
        """The node's error and attempt count once :meth:`execute` raised ``error``."""
        timeouts = self.timeouts if workflow.patched(TIMEOUT_ERRORS_PATCH) else None
        return activity_failure(error, self.retry.attempts, timeouts)


def activity_call(
    node: Node,
    kind: NodeKind,
    run: RunInput,
    variables: dict[str, Any],
    run_id: str,
    path: str,
    subject: ProofSubject | None = None,
) -> ActivityCall:
    """Render the node's config and build the activity's request and options.

    ``subject`` (what the run is, for nodes that act for its owner) goes to
    the activity with the run's proof; the activity checks one against the other.

    Raises:
        EvaluationError: a template in the config failed.
    """
    assert kind.activity is not None
    defaults = run.definition.defaults
    retry = effective_retry(node.retry or defaults.retry, run.options.max_attempts_cap)
    defer = (SECRET_ROOT,) if kind.reads_secrets else ()
    config = render(node.config, variables, where="config", defer=defer)
    key = execution_key(run_id, path) if node.idempotency else None
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
        proof=run.proof if subject is not None else None,
        subject=subject,
        max_output_bytes=run.options.max_payload_bytes,
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
