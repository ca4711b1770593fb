"""``InterpreterWorkflow``: one Temporal workflow that runs any definition.

Pure nodes are evaluated here (deterministic CEL); nodes that touch the
outside world are activities. Scheduling follows :mod:`interpreter.scheduler`.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from interpreter import search_attributes as sa
    from interpreter.client import PAUSE_SIGNAL, RESUME_SIGNAL, STATUS_QUERY, WORKFLOW_TYPE
    from interpreter.errors import ExpressionError
    from interpreter.expressions import evaluate_bool
    from interpreter.nodes.registry import NodeKind, kind_of
    from interpreter.outcomes import activity_failure, is_cancellation
    from interpreter.run import NodeError, NodeStatus, RunInput, RunSnapshot, RunStatus
    from interpreter.run_state import NodeBook, Stop
    from interpreter.scheduler import Scheduler
    from interpreter.scope import Scope, node_reads, template_references
    from interpreter.steps import PureOutcome, activity_call, run_pure, wait_delay
    from interpreter.templates import render


@workflow.defn(name=WORKFLOW_TYPE)
class InterpreterWorkflow:
    @workflow.init
    def __init__(self, run: RunInput) -> None:
        self._input = run
        definition = run.definition
        info = workflow.info()
        self._nodes = {node.id: node for node in definition.nodes}
        self._kinds: dict[str, NodeKind] = {}
        for node in definition.nodes:
            kind = kind_of(node.type)
            if kind is None:  # the API validates first; this guards direct starts
                raise ApplicationError(f"node {node.id!r}: unknown type", non_retryable=True)
            self._kinds[node.id] = kind
        self._reads = {
            node.id: node_reads(
                node, [src for _, src in self._kinds[node.id].cel_fields(node.config)]
            )
            for node in definition.nodes
        }
        self._scheduler = Scheduler(definition)
        self._book = NodeBook(definition, run.options.max_snapshot_output_bytes)
        self._scope = Scope(
            run.input,
            {
                "id": info.workflow_id,
                "workflow_id": run.meta.workflow_id,
                "version": run.meta.version,
                "started_at": info.start_time.isoformat(),
                "attempt": info.attempt,
            },
        )
        self._queue: deque[str] = deque()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._limit = definition.max_concurrency or run.options.default_max_concurrency
        self._paused = False
        self._stop: Stop | None = None
        self._unhandled: NodeError | None = None
        self._status = RunStatus.RUNNING
        self._output: Any = None

    @workflow.run
    async def run(self, run: RunInput) -> Any:
        self._queue.extend(self._scheduler.roots())
        self._pump()
        try:
            await workflow.wait_condition(self._drained)
        except asyncio.CancelledError:
            self._halt(Stop("cancelled"))
            await workflow.wait_condition(lambda: not self._tasks)
            self._finish(RunStatus.CANCELLED)
            raise
        return self._conclude()

    # -- control -----------------------------------------------------------------

    @workflow.signal(name=PAUSE_SIGNAL)
    def pause(self) -> None:
        """No new node starts until resumed; running nodes finish."""
        if not self._paused and self._status == RunStatus.RUNNING:
            self._paused = True
            workflow.upsert_search_attributes([sa.STATUS.value_set(RunStatus.PAUSED.value)])
            self._show_details()

    @workflow.signal(name=RESUME_SIGNAL)
    def resume(self) -> None:
        if self._paused:
            self._paused = False
            if self._status == RunStatus.RUNNING:
                workflow.upsert_search_attributes([sa.STATUS.value_set(RunStatus.RUNNING.value)])
            self._pump()

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> RunSnapshot:
        status = (
            RunStatus.PAUSED if self._paused and self._status == RunStatus.RUNNING else self._status
        )
        return self._book.snapshot(
            status=status,
            paused=self._paused,
            meta=self._input.meta,
            started_at=workflow.info().start_time,
            output=self._output,
            error=self._stop.error if self._stop and self._stop.error else self._unhandled,
        )

    # -- scheduling --------------------------------------------------------------

    def _drained(self) -> bool:
        if self._tasks:
            return False
        return self._stop is not None or not self._queue

    def _pump(self) -> None:
        while self._queue and not self._paused and self._stop is None:
            if len(self._tasks) >= self._limit:
                break
            self._begin(self._queue.popleft())
        self._show_details()

    def _begin(self, node_id: str) -> None:
        node = self._nodes[node_id]
        if not self._scheduler.join_holds(node_id):
            self._skip(node_id)
            return
        variables = self._scope.variables(self._reads[node_id])
        if node.when is not None:
            try:
                if not evaluate_bool(node.when, variables):
                    self._skip(node_id)
                    return
            except ExpressionError as exc:
                self._failed(node_id, NodeError(type="ExpressionError", message=f"when: {exc}"), 0)
                return
        kind = self._kinds[node_id]
        self._book.start(node_id, workflow.now())
        if kind.runs_as == "activity" or kind.name == "wait":
            task = asyncio.create_task(self._run_task(node_id, kind, variables))
            self._tasks[node_id] = task
            # A done-callback (not try/finally in the task) also sees tasks that
            # were cancelled before they ever started running.
            task.add_done_callback(lambda _task: self._task_done(node_id))
            return
        try:
            outcome = run_pure(kind.name, node.config, variables)
        except ExpressionError as exc:
            self._failed(node_id, NodeError(type="ExpressionError", message=str(exc)), 1)
            return
        self._pure_outcome(node_id, outcome, variables)

    def _pure_outcome(self, node_id: str, outcome: PureOutcome, variables: dict[str, Any]) -> None:
        if outcome.fail is not None:
            error = NodeError(type="Fail", message=outcome.fail)
            self._book.fail(node_id, error, 1, workflow.now())
            self._halt(Stop("failed", error=error, node=node_id))
            return
        self._succeeded(node_id, outcome.output, variables, 1)
        if outcome.succeed:
            self._halt(Stop("succeeded", output=outcome.output))

    async def _run_task(self, node_id: str, kind: NodeKind, variables: dict[str, Any]) -> None:
        node = self._nodes[node_id]
        try:
            if kind.name == "wait":
                self._book.waiting(node_id)
                delay = wait_delay(node.config, variables, workflow.now())
                await workflow.sleep(delay, summary=f"{node_id}: wait")
                self._succeeded(node_id, {"waited": f"{delay.total_seconds():g}s"}, variables, 1)
                return
            call = activity_call(node, kind, self._input, variables, workflow.info().workflow_id)
            try:
                result = await call.execute()
            except ActivityError as err:
                if is_cancellation(err):
                    raise asyncio.CancelledError() from err
                error, attempts = activity_failure(err, call.retry.attempts)
                self._failed(node_id, error, attempts)
                return
            self._succeeded(node_id, result.output, variables, result.attempt)
        except ExpressionError as exc:
            self._failed(node_id, NodeError(type="ExpressionError", message=str(exc)), 0)

    def _task_done(self, node_id: str) -> None:
        del self._tasks[node_id]
        if self._book.is_active(node_id):
            self._book.cancel(node_id, workflow.now())
        self._pump()

    def _succeeded(self, node_id: str, raw: Any, variables: dict[str, Any], attempts: int) -> None:
        node = self._nodes[node_id]
        output = raw
        if node.output is not None:
            try:
                output = render(node.output, {**variables, "result": raw}, where="output")
            except ExpressionError as exc:
                self._failed(node_id, NodeError(type="ExpressionError", message=str(exc)), attempts)
                return
        self._book.succeed(node_id, output, attempts, workflow.now())
        self._scope.record(node_id, NodeStatus.SUCCEEDED.value, output, None)
        self._settle(node_id, NodeStatus.SUCCEEDED)

    def _failed(self, node_id: str, error: NodeError, attempts: int) -> None:
        error = error.model_copy(update={"message": f"node {node_id!r}: {error.message}"})
        self._book.fail(node_id, error, attempts, workflow.now())
        self._scope.record(
            node_id, NodeStatus.FAILED.value, None, {"type": error.type, "message": error.message}
        )
        if not self._scheduler.handles_failure(node_id):
            if self._input.definition.on_failure == "continue":
                self._unhandled = self._unhandled or error
            else:
                self._halt(Stop("failed", error=error, node=node_id))
        self._settle(node_id, NodeStatus.FAILED)

    def _skip(self, node_id: str) -> None:
        self._book.skip(node_id)
        self._scope.record(node_id, NodeStatus.SKIPPED.value, None, None)
        self._settle(node_id, NodeStatus.SKIPPED)

    def _settle(self, node_id: str, status: NodeStatus) -> None:
        self._queue.extend(self._scheduler.settle(node_id, status, self._edge_taken))

    def _edge_taken(self, edge: Any) -> bool:
        reads = template_references("{{ " + edge.when + " }}")
        try:
            return evaluate_bool(edge.when, self._scope.variables(reads))
        except ExpressionError as exc:
            error = NodeError(
                type="ExpressionError", message=f"edge {edge.source} -> {edge.target}: {exc}"
            )
            self._halt(Stop("failed", error=error, node=edge.source))
            return False

    def _halt(self, stop: Stop) -> None:
        """Stop scheduling; cancel what runs. The first reason to stop wins."""
        if self._stop is None:
            self._stop = stop
        for task in self._tasks.values():
            task.cancel()

    # -- the end -----------------------------------------------------------------

    def _conclude(self) -> Any:
        stop = self._stop
        self._book.close_pending(skipped=stop is not None and stop.reason == "succeeded")
        error = stop.error if stop is not None and stop.error is not None else self._unhandled
        if error is None:
            try:
                self._output = stop.output if stop is not None else self._run_output()
            except ExpressionError as exc:
                error = NodeError(type="ExpressionError", message=f"run output: {exc}")
        if error is not None:
            self._finish(RunStatus.FAILED)
            raise ApplicationError(
                error.message, error.model_dump(mode="json"), type="RunFailed", non_retryable=True
            )
        self._finish(RunStatus.SUCCEEDED)
        return self._output

    def _run_output(self) -> Any:
        template = self._input.definition.output
        if template is None:
            return self._book.sink_outputs()
        reads = template_references(template)
        return render(template, self._scope.variables(reads), where="output")

    def _finish(self, status: RunStatus) -> None:
        self._status = status
        self._book.close_pending(skipped=False)
        self._book.ended_at = workflow.now()
        workflow.upsert_search_attributes([sa.STATUS.value_set(status.value)])
        workflow.set_current_details("")

    def _show_details(self) -> None:
        running = ", ".join(f"{n} ({self._nodes[n].type})" for n in self._tasks)
        state = "paused" if self._paused else "running"
        workflow.set_current_details(f"{state}: {running}" if running else state)
