"""``InterpreterWorkflow``: one Temporal workflow that runs any definition.

Pure nodes are evaluated here (deterministic CEL); nodes that touch the
outside world are activities; for_each batches and sub_workflows are child
runs of this same workflow type. See :mod:`interpreter.runtime.dag` for scheduling
and :mod:`interpreter.runtime.host` for run-level policies.
"""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from interpreter.contract.client import (
        BREAKPOINTS_UPDATE,
        ITEM_OUTPUTS_QUERY,
        NODE_STATS_MEMO,
        OUTPUTS_QUERY,
        PAUSE_SIGNAL,
        RESUME_SIGNAL,
        RETRY_NODE_UPDATE,
        SCOPE_QUERY,
        SIGNAL_UPDATE,
        SKIP_NODE_UPDATE,
        STATUS_QUERY,
        STEP_UPDATE,
        TEST_REPORT_QUERY,
        WORKFLOW_TYPE,
    )
    from interpreter.contract.oversize import oversize
    from interpreter.contract.run import (
        ItemOutputs,
        ItemsAsked,
        NodeError,
        RunInput,
        RunSnapshot,
        RunStatus,
    )
    from interpreter.contract.testing import TestReport
    from interpreter.dsl.payloads import payload_bytes
    from interpreter.errors import ExpressionError, expression_error_type
    from interpreter.nodes import ForEachConfig, NodeFailed
    from interpreter.runtime.arms import placed, record_arm
    from interpreter.runtime.book import Stop
    from interpreter.runtime.for_each import ItemRecord
    from interpreter.runtime.host import RunHost
    from interpreter.runtime.operator import (
        Breakpoints,
        NodeRetry,
        NodeSkip,
        SignalDelivery,
        Step,
        check_breakpoints,
        check_signal,
    )
    from interpreter.runtime.patches import NODE_STATS_PATCH
    from interpreter.runtime.test_doubles import test_report
    from interpreter.runtime.trace_root import record_trace_root


@workflow.defn(name=WORKFLOW_TYPE)
class InterpreterWorkflow:
    """Runs the definition pinned in its input; operators steer it by signals and updates."""

    @workflow.init
    def __init__(self, run: RunInput) -> None:
        # A schedule's run under a rollout runs the arm it is placed on.
        self._run = placed(run)
        self._host = RunHost(self._run)

    @workflow.run
    async def run(self, run: RunInput) -> Any:
        """Run the definition to its end and return its output (a batch: its items' outputs).

        Continues as new instead when Temporal suggests it and nodes are left to run.

        Raises:
            ApplicationError: ``RunFailed`` for a failure no edge or policy handled,
                a ``fail`` node or a run output that does not render; for a batch,
                ``ItemsFailed`` naming its failed items. Never retried.
        """
        host = self._host
        if run.batch is not None:
            return await self._run_batch()
        # First, before any command of the run's own: a tracing worker's interceptor
        # decides on the run's own trace (a marker) before this code runs.
        record_trace_root(run)
        record_arm(run, self._run)
        run = self._run
        if run.carry is None:
            host.dag.start()
        else:
            host.pump_all()
        while True:
            try:
                await workflow.wait_condition(host.finished)
            except asyncio.CancelledError:
                host.dag.halt(Stop("cancelled"))
                await workflow.wait_condition(lambda: not host.dag.tasks)
                self._finish(RunStatus.CANCELLED)
                raise
            if not (host.draining and host.dag.stop is None and (host.dag.queue or host.suspended)):
                return self._conclude()
            await workflow.wait_condition(workflow.all_handlers_finished)
            carry = host.carry()
            fits = not host.payload_limit or payload_bytes(carry) <= host.payload_limit
            if fits or not host.checks_payloads():
                workflow.continue_as_new(run.model_copy(update={"carry": carry}))
            # Temporal could not store that state: go on in this history instead.
            host.keep_history()

    async def _run_batch(self) -> Any:
        batch = self._run.batch
        assert batch is not None
        host = self._host
        node = host.dag.nodes[batch.node_id]
        config = ForEachConfig.model_validate(node.config)
        assert host.for_each is not None
        indexes = batch.item_indexes()
        # Kept for a redrive: the outputs of this batch's items that succeeded.
        host.for_each.records[node.id] = ItemRecord(items=None, total=len(indexes))
        try:
            outputs = await host.for_each.run_inline(
                host.dag, node.id, config, batch.items, indexes, host.scope
            )
        except NodeFailed as failure:
            raise _batch_error(failure.error) from None
        too_large = host.payload_limit and oversize(
            f"node {node.id!r}: the outputs of items {indexes[0]}..{indexes[-1]}",
            outputs,
            host.payload_limit,
            "keep less of each item with the body's `output`, or lower "
            "FLOWFORGE_FOR_EACH_BATCH_SIZE",
        )
        if too_large and host.checks_payloads():
            shown = too_large.model_dump(mode="json")
            failures = {str(i): shown for i in indexes[:20]}
            raise _batch_error(
                too_large.model_copy(
                    update={
                        "details": {
                            **too_large.details,
                            "failed": list(indexes),
                            "errors": failures,
                        }
                    }
                )
            )
        return outputs

    # -- control -----------------------------------------------------------------

    @workflow.signal(name=PAUSE_SIGNAL)
    def pause(self) -> None:
        """No new node starts until resumed; running nodes finish."""
        host = self._host
        if not host.paused and host.status == RunStatus.RUNNING:
            host.paused = True
            host.set_status(host.run_status())
            host.changed()

    @workflow.signal(name=RESUME_SIGNAL)
    def resume(self) -> None:
        """Let new nodes start again after :meth:`pause`."""
        host = self._host
        if host.paused and (host.breakpoints or host.stepping or host.paused_before):
            # The node held at a breakpoint starts; the next breakpoint holds again.
            host.release(stepping=False)
        elif host.paused:
            host.paused = False
            if host.status == RunStatus.RUNNING:
                host.set_status(host.run_status())
            host.pump_all()

    @workflow.update(name=STEP_UPDATE)
    def step(self, request: Step) -> list[str]:
        """Start only the nodes ready now, then pause before the next; returns their paths."""
        host = self._host
        ready = host.ready_paths()
        host.release(stepping=True)
        return ready

    @step.validator
    def _validate_step(self, request: Step) -> None:
        host = self._host
        if not host.paused or host.status != RunStatus.RUNNING:
            raise ValueError(
                "the run is not paused: pause it, or start it with breakpoints, to step"
            )

    @workflow.update(name=BREAKPOINTS_UPDATE)
    def set_breakpoints(self, request: Breakpoints) -> list[str]:
        """Replace the run's breakpoints; returns them."""
        self._host.breakpoints = set(request.breakpoints)
        return sorted(self._host.breakpoints)

    @set_breakpoints.validator
    def _validate_breakpoints(self, request: Breakpoints) -> None:
        check_breakpoints(self._run.definition, request.breakpoints)

    @workflow.query(name=SCOPE_QUERY)
    def scope(self) -> dict[str, Any]:
        """What the node the run is paused before would see (``{}`` when not paused so)."""
        host = self._host
        assert host.for_each is not None
        for dag in (host.dag, *host.for_each.live):
            for node_id in dag.queue:
                if dag.path(node_id) == host.paused_before:
                    return dag.scope_of(node_id)
        return {}

    @workflow.update(name=SIGNAL_UPDATE)
    def deliver(self, delivery: SignalDelivery) -> dict[str, Any]:
        """Hand a payload to the wait_for_signal node(s) waiting for it."""
        self._host.signal_box(delivery.name).append(delivery.payload)
        return {"accepted": True, "signal": delivery.name}

    @deliver.validator
    def _validate_delivery(self, delivery: SignalDelivery) -> None:
        check_signal(self._run.definition, delivery)

    @workflow.update(name=RETRY_NODE_UPDATE)
    def retry_node(self, request: NodeRetry) -> str:
        """Run the node the run is suspended on again; returns the run's status."""
        self._host.unsuspend()
        self._host.dag.retry(request.node_id, request.config)
        return self._host.run_status().value

    @retry_node.validator
    def _validate_retry(self, request: NodeRetry) -> None:
        self._check_suspended_on(request.node_id)

    @workflow.update(name=SKIP_NODE_UPDATE)
    def skip_node(self, request: NodeSkip) -> str:
        """Skip the node the run is suspended on, with the output given; returns the status."""
        self._host.unsuspend()
        self._host.dag.skip_with(request.node_id, request.output)
        return self._host.run_status().value

    @skip_node.validator
    def _validate_skip(self, request: NodeSkip) -> None:
        self._check_suspended_on(request.node_id)

    def _check_suspended_on(self, node_id: str) -> None:
        suspended = self._host.suspended
        if suspended is None:
            raise ValueError("the run is not suspended")
        if node_id != suspended:
            raise ValueError(f"the run is suspended on node {suspended!r}, not {node_id!r}")

    @workflow.query(name=OUTPUTS_QUERY)
    def node_outputs(self, node_ids: list[str]) -> dict[str, Any]:
        """Full outputs of succeeded top-level nodes (for reruns); unknown ids are left out."""
        values = self._host.scope.nodes
        return {
            node_id: values[node_id]["output"]
            for node_id in node_ids
            if node_id in values and values[node_id]["status"] == "succeeded"
        }

    @workflow.query(name=ITEM_OUTPUTS_QUERY)
    def item_outputs(self, asked: ItemsAsked) -> ItemOutputs:
        """What the run holds of a top-level for_each's items that succeeded (for redrives)."""
        assert self._host.for_each is not None
        return self._host.for_each.answer(asked)

    @workflow.query(name=TEST_REPORT_QUERY)
    def test_report(self) -> TestReport:
        """A test run's record of each node it carried out, by path, and of its edges."""
        for_each = self._host.for_each
        items, left_off = for_each.item_edges() if for_each is not None else ([], 0)
        report = test_report(self._host.dag, self._host.tested, items)
        report.edges_left_off = left_off
        return report

    @workflow.query(name=STATUS_QUERY)
    def status(self) -> RunSnapshot:
        """The run and every node as they are now, large outputs cut to a preview."""
        host = self._host
        snap = host.dag.book.snapshot(
            status=host.run_status(),
            paused=host.paused,
            meta=self._run.meta,
            started_at=host.started_at,
            output=host.output,
            error=host.dag.error(),
            suspended_on=host.suspended,
        )
        snap.paused_before = host.paused_before if host.paused else None
        return snap

    # -- the end -----------------------------------------------------------------

    def _conclude(self) -> Any:
        host = self._host
        dag = host.dag
        dag.book.close_pending(skipped=dag.stop is not None and dag.stop.reason == "succeeded")
        error = dag.error()
        if error is None:
            try:
                output = dag.output(self._run.definition.output)
            except ExpressionError as exc:
                error = NodeError(type=expression_error_type(exc), message=f"run output: {exc}")
                dag.unhandled = error
            else:
                if host.payload_limit:
                    error = oversize(
                        "the run's output",
                        output,
                        host.payload_limit,
                        "keep less with the definition's `output` (by default it holds the "
                        "output of every node without outgoing edges), or with the nodes' "
                        "`output`",
                    )
                if error is None or not host.checks_payloads():
                    error = None
                    host.output = output
                else:
                    dag.unhandled = error
        if error is not None:
            self._finish(RunStatus.FAILED)
            raise ApplicationError(
                error.message, error.model_dump(mode="json"), type="RunFailed", non_retryable=True
            )
        self._finish(RunStatus.SUCCEEDED)
        return host.output

    def _finish(self, status: RunStatus) -> None:
        host = self._host
        host.status = status
        host.dag.book.close_pending(skipped=False)
        host.dag.book.ended_at = workflow.now()
        host.set_status(status)
        # Not workflow.patched here: the run may end right after a local activity, which
        # replay may resolve a workflow task early (interpreter/runtime/patches.py).
        if host.patches.enabled(NODE_STATS_PATCH):
            workflow.upsert_memo({NODE_STATS_MEMO: host.dag.book.stats()})
        workflow.set_current_details("")


def _batch_error(error: NodeError) -> ApplicationError:
    """How a batch run fails: its error as the parent's for_each reads it."""
    return ApplicationError(
        error.message, error.model_dump(mode="json"), type=error.type, non_retryable=True
    )
