"""The run-level policies around the top DAG: pause, suspend, failure mode, continue-as-new."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from temporalio import workflow

from interpreter.contract import search_attributes as sa
from interpreter.contract.run import Carry, NodeError, RunInput, RunStatus
from interpreter.runtime.book import Stop
from interpreter.runtime.dag import Dag
from interpreter.runtime.executor import PAYLOAD_LIMIT_PATCH, Executor
from interpreter.runtime.for_each import ForEachRunner
from interpreter.runtime.node_spans import node_spans
from interpreter.runtime.scope import Scope

__all__ = ["PAYLOAD_LIMIT_PATCH", "RunHost"]


class RunHost(Executor):
    """Hosts the run's top-level DAG and answers for the run as a whole."""

    def __init__(self, run: RunInput) -> None:
        super().__init__(run)
        info = workflow.info()
        carry = run.carry
        self.started_at = carry.started_at if carry else info.start_time
        self.continued = carry.continued if carry else 0
        self.for_each = ForEachRunner(
            self,
            run,
            lambda: self.subject,
            payload_limit=self.payload_limit,
            checks_payloads=self.checks_payloads,
        )
        self.scope = Scope(
            run.input,
            {
                "id": info.workflow_id,
                "workflow_id": run.meta.workflow_id,
                "version": run.meta.version,
                "started_at": self.started_at.isoformat(),
                "attempt": info.attempt,
            },
            outer=run.batch.outer if run.batch else None,
            limits=run.options.expression_limits(),
        )
        definition = run.definition
        self.node_spans = node_spans(self, run)
        self.dag = Dag(
            self,
            definition.nodes,
            definition.edges,
            scope=self.scope,
            limit=definition.max_concurrency or run.options.default_max_concurrency,
            max_output_bytes=run.options.max_snapshot_output_bytes,
            max_payload_bytes=self.payload_limit,
            checks_payloads=self.checks_payloads,
            reuse=run.reuse,
            spans=self.node_spans,
        )
        self.paused = carry.paused if carry else False
        # Breakpoints (see :meth:`holds`): what the run pauses before, whether it
        # is stepping (pausing before every node), and which held nodes may go.
        kept = carry.breakpoints if carry and carry.breakpoints is not None else None
        self.breakpoints: set[str] = set(run.breakpoints if kept is None else kept)
        self.stepping = carry.stepping if carry else False
        self.released: set[str] = set(carry.released) if carry else set()
        self.paused_before: str | None = carry.paused_before if carry else None
        self.suspended: str | None = carry.suspended if carry else None
        self.draining = False
        self.continue_as_new_refused = False
        self.status = RunStatus.RUNNING
        self.output: Any = None
        if carry is not None:
            self._restore(carry)

    # -- Host ------------------------------------------------------------------

    def may_start(self) -> bool:
        """False while the run is paused, suspended or draining for continue-as-new."""
        return not (self.paused or self.suspended or self.draining)

    def now(self) -> datetime:
        """The workflow's clock: the same instants on every replay."""
        return workflow.now()

    def holds(self, dag: Dag, node_id: str) -> bool:
        """Pause the run before ``node_id`` if it is a breakpoint, or the run is stepping.

        A node let through by :meth:`release` starts once. Without breakpoints
        this costs one test, so runs without them schedule exactly as before.
        """
        if not (self.breakpoints or self.stepping):
            return False
        path = dag.path(node_id)
        if path in self.released:
            self.released.discard(path)
            return False
        if self.stepping or "*" in self.breakpoints or _pattern(path) in self.breakpoints:
            self.paused = True
            self.paused_before = path
            self.set_status(self.run_status())
            return True
        return False

    def ready_paths(self) -> list[str]:
        """Paths of the nodes ready to start now, in the top DAG and every live for_each item."""
        assert self.for_each is not None
        return [
            dag.path(node_id) for dag in (self.dag, *self.for_each.live) for node_id in dag.queue
        ]

    def release(self, *, stepping: bool) -> None:
        """Let the nodes ready now start, once; with ``stepping``, pause before the next ones."""
        self.released.update(self.ready_paths())
        self.stepping = stepping
        self.paused = False
        self.paused_before = None
        if self.status == RunStatus.RUNNING:
            self.set_status(self.run_status())
        self.pump_all()

    def unhandled(self, dag: Dag, node_id: str, error: NodeError) -> bool:
        """Apply the definition's ``on_failure``: fail the run, go on, or suspend on the node."""
        mode = self.run.definition.on_failure
        if dag is not self.dag or mode == "fail":
            dag.halt(Stop("failed", error=error, node=node_id))
            return True
        if mode == "continue":
            dag.unhandled = dag.unhandled or error
            return True
        self.suspended = node_id
        workflow.upsert_search_attributes([sa.STATUS.value_set(RunStatus.SUSPENDED.value)])
        return False

    def changed(self) -> None:
        """Drain once continue-as-new is due, and show the running nodes in the run's details."""
        limit = self.run.options.continue_as_new_after_events
        info = workflow.info()
        if (
            not self.draining
            and not self.continue_as_new_refused
            and self.run.batch is None
            and (
                info.is_continue_as_new_suggested()
                or (limit and info.get_current_history_length() >= limit)
            )
        ):
            self.draining = True
        running = ", ".join(f"{n} ({self.dag.nodes[n].type})" for n in self.dag.tasks)
        state = self.run_status().value
        workflow.set_current_details(f"{state}: {running}" if running else state)

    # -- run state -------------------------------------------------------------

    def run_status(self) -> RunStatus:
        """The run's status now: paused or suspended while it runs, else how it ended."""
        if self.status != RunStatus.RUNNING:
            return self.status
        if self.suspended:
            return RunStatus.SUSPENDED
        return RunStatus.PAUSED if self.paused else RunStatus.RUNNING

    def finished(self) -> bool:
        """The run can end (or continue as new, if draining)."""
        if self.dag.tasks:
            return False
        if self.dag.stop is not None:
            return True
        if self.suspended:
            return False
        return self.draining or not self.dag.queue

    def pump_all(self) -> None:
        """Start what may start, in the top DAG and in every live for_each item."""
        self.dag.pump()
        assert self.for_each is not None
        for dag in list(self.for_each.live):
            dag.pump()

    def unsuspend(self) -> None:
        """An operator dealt with the failed node: scheduling may go on."""
        self.suspended = None
        self.set_status(self.run_status())

    def set_status(self, status: RunStatus) -> None:
        """Show ``status`` in the run's ``FlowForgeStatus`` search attribute."""
        workflow.upsert_search_attributes([sa.STATUS.value_set(status.value)])

    # -- continue-as-new -----------------------------------------------------------

    def carry(self) -> Carry:
        """The run's state for continue-as-new, to go on exactly where it is."""
        values = self.scope.nodes
        # An output both the book and the scope hold is carried once (in values).
        nodes = [
            node.model_copy(update={"output": None})
            if node.output is not None and values.get(node.id, {}).get("output") is node.output
            else node
            for node in self.dag.book.export()
        ]
        return Carry(
            nodes=nodes,
            values=values,
            taken=self.dag.scheduler.taken,
            queue=list(self.dag.queue),
            paused=self.paused,
            suspended=self.suspended,
            unhandled=self.dag.unhandled,
            signals={name: list(box) for name, box in self.signals.items() if box},
            started_at=self.started_at,
            continued=self.continued + 1,
            breakpoints=sorted(self.breakpoints),
            stepping=self.stepping,
            released=sorted(self.released),
            paused_before=self.paused_before,
        )

    def keep_history(self) -> None:
        """The carried state is over the payload limit: go on without continuing as new.

        The run keeps its history (Temporal ends a run whose history outgrows
        its hard limits, as terminated) rather than fail a task forever.
        """
        self.draining = False
        self.continue_as_new_refused = True
        self.pump_all()

    def _restore(self, carry: Carry) -> None:
        values = carry.values
        self.dag.book.restore(
            [
                node.model_copy(update={"output": values[node.id].get("output")})
                if node.output is None and node.id in values
                else node
                for node in carry.nodes
            ]
        )
        self.scope.nodes.update(carry.values)
        self.dag.scheduler.taken = list(carry.taken)
        self.dag.queue.extend(carry.queue)
        self.dag.unhandled = carry.unhandled
        self.signals = {name: list(values) for name, values in carry.signals.items()}


def _pattern(path: str) -> str:
    """A node path with item indexes as ``[*]``: ``loop[3].call`` -> ``loop[*].call``."""
    return re.sub(r"\[\d+\]", "[*]", path)
