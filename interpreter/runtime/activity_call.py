"""An activity node as the activity call the workflow makes: request, retry and options.

The config is rendered here, except the holes that read ``secrets``: those are
left for the activity, so secret values never enter the run's history.

A short node (see :func:`runs_locally`) is a local activity: the worker that
runs the workflow task runs it too, which saves the round trips of a regular
activity through the server's task queues (tens of milliseconds each). The
workflow retries such a node itself, one local activity per attempt and a
durable timer between two, so a long backoff is a timer rather than an
attempt held in a worker's memory, and the run's status shows the node
``retrying`` with its attempts and last error (Temporal's description lists no
local activities). docs/RUNS.md weighs the two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError, RetryState
from temporalio.workflow import ActivityCancellationType

from interpreter.activities.base import ActivityRequest, ActivityResult, execution_key
from interpreter.activities.secrets import SECRET_ROOT
from interpreter.contract.run import NodeError, RunInput
from interpreter.dsl.definition import Node, RetrySpec
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.holes import render
from interpreter.nodes import NodeKind
from interpreter.run_proof import ProofSubject
from interpreter.runtime.activity_errors import ActivityTimeouts, activity_failure, is_cancellation
from interpreter.runtime.patches import LOCAL_ACTIVITIES_PATCH, TIMEOUT_ERRORS_PATCH, Patches
from interpreter.runtime.retry_policy import effective_retry, retry_delay, retry_policy

ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)
"""A local activity node's attempts are the workflow's (see the module docstring)."""

Retrying = Callable[[int, ActivityError, datetime], None]
"""Told that attempt ``n`` failed with the error and the next one is due at the instant."""


@dataclass
class ActivityCall:
    """One activity node, ready to execute.

    Attributes:
        local: Run as local activities, the workflow making the attempts.
        patches: The run's patch decisions (see :mod:`interpreter.runtime.patches`).
        attempts_made: The attempts a local node made (its count once it failed).
    """

    activity: str
    request: ActivityRequest
    retry: RetrySpec
    options: dict[str, Any]
    patches: Patches
    local: bool = False
    attempts_made: int = field(default=0, init=False)

    async def execute(
        self, retrying: Retrying | None = None, attempting: Callable[[], None] | None = None
    ) -> ActivityResult:
        """Execute the activity with its retries; raises ActivityError once it fails for good.

        A local node tells ``retrying`` of each failed attempt to be retried and
        ``attempting`` when the next attempt begins.
        """
        if not self.local:
            result: ActivityResult = await workflow.execute_activity(
                self.activity, self.request, result_type=ActivityResult, **self.options
            )
            return result
        total = self.options.get("schedule_to_close_timeout")
        deadline = workflow.now() + total if total else None
        while True:
            self.attempts_made += 1
            try:
                return await self._local_attempt(deadline)
            except ActivityError as err:
                delay = self._next_delay(err, deadline)
                if delay is None:
                    raise
                if retrying is not None:
                    retrying(self.attempts_made, err, workflow.now() + delay)
                last = err
            await workflow.sleep(delay, summary=f"retry {self.options['activity_id']}")
            # A timer may fire late (a busy worker): past the deadline, no attempt
            # has time left, and a local activity cannot be given a negative one.
            if deadline is not None and workflow.now() >= deadline:
                raise last
            if attempting is not None:
                attempting()

    def _next_delay(self, error: ActivityError, deadline: datetime | None) -> timedelta | None:
        """The wait before the next local attempt; None: ``error`` is the node's last."""
        if is_cancellation(error):
            return None
        delay = retry_delay(self.options["retry_policy"], self.attempts_made, error)
        if delay is None or (deadline is not None and workflow.now() + delay >= deadline):
            return None
        return delay

    async def _local_attempt(self, deadline: datetime | None) -> ActivityResult:
        options = {
            key: self.options[key]
            for key in ("activity_id", "start_to_close_timeout", "cancellation_type", "summary")
        }
        if deadline is not None:
            options["schedule_to_close_timeout"] = deadline - workflow.now()
        request = self.request.model_copy(update={"attempt": self.attempts_made})
        try:
            result: ActivityResult = await workflow.execute_local_activity(
                self.activity,
                request,
                result_type=ActivityResult,
                retry_policy=ONE_ATTEMPT,
                **options,
            )
        except ActivityError:
            raise
        except FailureError as err:
            # A local activity's failure may come bare; wrap it as a regular one's comes.
            raise ActivityError(
                str(err),
                scheduled_event_id=0,
                started_event_id=0,
                identity="",
                activity_type=self.activity,
                activity_id=self.options["activity_id"],
                retry_state=None,
            ) from err
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
        # Not workflow.patched here: after a local activity, replay may reach this a
        # workflow task before the live run did (interpreter/runtime/patches.py).
        timeouts = self.timeouts if self.patches.enabled(TIMEOUT_ERRORS_PATCH) else None
        if not self.local:
            return activity_failure(error, self.retry.attempts, timeouts)
        # Each local attempt is Temporal's only one: say why the workflow made no more.
        if self.attempts_made >= self.retry.attempts:
            state = RetryState.MAXIMUM_ATTEMPTS_REACHED
        elif self.options.get("schedule_to_close_timeout"):
            state = RetryState.TIMEOUT
        else:
            state = RetryState.NON_RETRYABLE_FAILURE
        node_error, _ = activity_failure(error, self.retry.attempts, timeouts, state)
        return node_error, self.attempts_made


def runs_locally(
    node: Node, kind: NodeKind, run: RunInput, start_to_close: timedelta, patches: Patches
) -> bool:
    """Whether the node runs as local activities (see the module docstring).

    Only a kind that may, when neither the node nor the definition's defaults
    ask for ``execution: "activity"``, the node is not routed to a task queue
    of its own (nor the run's activities to another worker pool), and one
    attempt fits within ``RunOptions.local_activity_max_seconds``.
    """
    limit = run.options.local_activity_max_seconds
    execution = node.execution or run.definition.defaults.execution
    if not kind.local or execution != "local" or limit <= 0:
        return False
    if node.task_queue or run.options.activity_task_queue:
        return False
    if start_to_close > timedelta(seconds=limit):
        return False
    return patches.enabled(LOCAL_ACTIVITIES_PATCH)


def activity_call(
    node: Node,
    kind: NodeKind,
    run: RunInput,
    variables: dict[str, Any],
    run_id: str,
    path: str,
    subject: ProofSubject | None = None,
    *,
    patches: Patches,
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
    local = runs_locally(node, kind, run, options["start_to_close_timeout"], patches)
    return ActivityCall(kind.activity, request, retry, options, patches, local)
