"""for_each: a sub-DAG per item, inline below a threshold, in child-workflow batches above.

The for_each unit (:mod:`interpreter.nodes.for_each`) evaluates ``items`` and
hands them to :meth:`ForEachRunner.run`. Inline, each item is a :class:`Dag` in
this workflow. Past
``for_each_batch_threshold`` items, batches of ``for_each_batch_size`` run as
child interpreter runs (``RunInput.batch``), a few at a time, so no single
history approaches Temporal's event, size or pending-activity limits.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, ChildWorkflowError

from interpreter.contract import search_attributes as sa
from interpreter.contract.client import WORKFLOW_TYPE
from interpreter.contract.oversize import oversize
from interpreter.contract.run import Batch, NodeError, RunInput
from interpreter.dsl.definition import Definition, Node
from interpreter.errors import ExpressionError, expression_error_type
from interpreter.nodes import ForEachBody, ForEachConfig, NodeDone, NodeFailed, NodeKind
from interpreter.run_proof import ProofSubject
from interpreter.runtime.book import Stop
from interpreter.runtime.dag import Dag, Host
from interpreter.runtime.scope import Scope, node_reads, template_references


class ItemHost:
    """Host of one item's DAG: an unhandled failure fails the item."""

    def __init__(self, host: Host) -> None:
        self._host = host

    def may_start(self) -> bool:
        """As for the run: false while it is paused, suspended or draining."""
        return self._host.may_start()

    def now(self) -> datetime:
        """The run's clock."""
        return self._host.now()

    async def execute(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        """Run the node as the run's host does."""
        return await self._host.execute(dag, node, kind, variables)

    async def run_items(
        self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]
    ) -> list[Any]:
        """Run a nested for_each's items as the run's host does."""
        return await self._host.run_items(dag, node, config, items)

    def unhandled(self, dag: Dag, node_id: str, error: NodeError) -> bool:
        """Halt the item's DAG, whatever the run's ``on_failure``: the failure fails the item."""
        dag.halt(Stop("failed", error=error, node=node_id))
        return True

    def changed(self) -> None:
        """Nothing to do: continue-as-new and the run's details follow the top DAG only."""
        pass


@dataclass
class _Slots:
    active: int = 0
    finished: int = 0


class ForEachRunner:
    """Runs the for_each bodies of one workflow run.

    Args:
        host: The run's host.
        run: The run's input.
        subject: What the run is (``Executor.subject``): batches carry it as
            their lineage, with the run's proof.

    Attributes:
        live: The item DAGs running now (resume pumps them too).
    """

    def __init__(
        self,
        host: Host,
        run: RunInput,
        subject: Callable[[], ProofSubject],
        *,
        payload_limit: int = 0,
    ) -> None:
        self.host = host
        self.payload_limit = payload_limit
        self.run_input = run
        self._subject = subject
        self.live: set[Dag] = set()
        self._item_host = ItemHost(host)

    async def run(self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]) -> list[Any]:
        """Every item of a for_each node, inline or in batches; outputs in item order.

        Raises:
            NodeFailed: too many items, or naming the failed items.
        """
        options = self.run_input.options
        if options.for_each_max_items and len(items) > options.for_each_max_items:
            raise NodeFailed(
                NodeError(
                    type="ConfigError",
                    message=f"{len(items)} items; the limit is {options.for_each_max_items}",
                )
            )
        if len(items) > options.for_each_batch_threshold and self.run_input.batch is None:
            return await self._batched(dag, node, config, items)
        return await self.run_inline(dag, node.id, config, items, 0, dag.scope)

    async def run_inline(
        self,
        dag: Dag,
        node_id: str,
        config: ForEachConfig,
        items: list[Any],
        first_index: int,
        parent_scope: Scope,
    ) -> list[Any]:
        """Run every item inline, as a DAG of this workflow; outputs in item order.

        Also the whole work of a batch's child run (``first_index`` is the
        batch's first item).

        Raises:
            NodeFailed: naming the failed indexes.
        """
        limit = config.max_concurrency or self.run_input.options.for_each_default_concurrency
        budget = self.run_input.options.for_each_nodes_per_task
        per_task = max(1, budget // len(config.body.nodes))
        outputs: list[Any] = [None] * len(items)
        failures: dict[int, NodeError] = {}
        tasks: list[asyncio.Task[None]] = []
        slots = _Slots()

        async def one(position: int) -> None:
            index = first_index + position
            item_dag = Dag(
                self._item_host,
                config.body.nodes,
                config.body.edges,
                scope=Scope(
                    self.run_input.input,
                    parent_scope.run,
                    parent=parent_scope,
                    extra={"item": items[position], "index": index},
                ),
                limit=len(config.body.nodes),
                max_output_bytes=self.run_input.options.max_snapshot_output_bytes,
                max_payload_bytes=self.payload_limit,
                prefix=f"{dag.path(node_id)}[{index}].",
            )
            self.live.add(item_dag)
            try:
                item_dag.start()
                await workflow.wait_condition(item_dag.drained)
                error = item_dag.error()
                if error is None:
                    try:
                        outputs[position] = item_dag.output(config.body.output)
                    except ExpressionError as exc:
                        error = NodeError(
                            type=expression_error_type(exc), message=f"item {index} output: {exc}"
                        )
                if error is not None:
                    failures[index] = error
            except asyncio.CancelledError:
                item_dag.halt(Stop("cancelled"))
                await workflow.wait_condition(lambda: not item_dag.tasks)
                raise
            finally:
                self.live.discard(item_dag)
                slots.active -= 1
                slots.finished += 1
                dag.book.progress(
                    node_id,
                    {"done": slots.finished, "total": len(items), "failed": len(failures)},
                )

        try:
            for position in range(len(items)):
                await workflow.wait_condition(
                    lambda: (
                        (slots.active < limit and self.host.may_start())
                        or bool(failures and config.fail_fast)
                    )
                )
                if failures and config.fail_fast:
                    break
                if position and position % per_task == 0:
                    # Items whose body is pure all run inside one workflow task;
                    # a short timer ends the task so no task nears the SDK's
                    # 2-second deadlock limit, however heavy the body. Timers
                    # cost a round trip, so light bodies never need one.
                    await workflow.sleep(timedelta(milliseconds=1))
                slots.active += 1
                tasks.append(asyncio.create_task(one(position)))
            if config.fail_fast:
                await workflow.wait_condition(lambda: slots.active == 0 or bool(failures))
                if failures:
                    for task in tasks:
                        task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        except asyncio.CancelledError:
            await _cancel_all(tasks)
            raise
        if failures:
            raise NodeFailed(_summarise(failures, len(items)))
        return outputs

    async def _batched(
        self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]
    ) -> list[Any]:
        size = self.run_input.options.for_each_batch_size
        starts = list(range(0, len(items), size))
        outputs: list[Any] = [None] * len(items)
        failures: dict[int, NodeError] = {}
        outer = _outer_reads(config.body)
        outer_values = {node_id: dag.scope.lookup(node_id) for node_id in outer}
        # Each batch carries the run input only if the body may read it: a large
        # input (often the item list itself) would otherwise be copied per batch.
        run_input = self.run_input.input if _may_read_input(config.body) else None
        slots = _Slots()
        tasks: list[asyncio.Task[None]] = []

        async def batch(first: int) -> None:
            chunk = items[first : first + size]
            child = RunInput(
                definition=Definition(
                    name=f"{self.run_input.definition.name}/{node.id}", nodes=[node]
                ),
                input=run_input,
                meta=self.run_input.meta,
                options=self.run_input.options,
                children=self.run_input.children,
                depth=self.run_input.depth,
                batch=Batch(node_id=node.id, items=chunk, first_index=first, outer=outer_values),
                proof=self.run_input.proof,
                lineage=self._subject(),
            )
            too_large = self.payload_limit and oversize(
                f"node {dag.path(node.id)!r}: the input of its batch of items {first}.."
                f"{first + len(chunk) - 1}",
                child,
                self.payload_limit,
                "iterate over smaller items (e.g. ids), or lower FLOWFORGE_FOR_EACH_BATCH_SIZE",
            )
            try:
                if too_large:
                    failures[first] = too_large
                    return
                result: list[Any] = await workflow.execute_child_workflow(
                    WORKFLOW_TYPE,
                    child,
                    id=f"{workflow.info().workflow_id}/{dag.path(node.id)}/{first}",
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(sa.TRIGGER, sa.BATCH_TRIGGER)]
                    ),
                    cancellation_type=workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
                    static_summary=f"{node.id} items {first}..{first + len(chunk) - 1}",
                )
                outputs[first : first + len(chunk)] = result
            except ChildWorkflowError as err:
                failures.update(_batch_failures(err, first))
            finally:
                slots.active -= 1
                slots.finished += len(chunk)
                dag.book.progress(
                    node.id, {"done": slots.finished, "total": len(items), "failed": len(failures)}
                )

        try:
            for first in starts:
                await workflow.wait_condition(
                    lambda: (
                        slots.active < self.run_input.options.for_each_parallel_batches
                        and self.host.may_start()
                    )
                )
                if failures and config.fail_fast:
                    break
                slots.active += 1
                tasks.append(asyncio.create_task(batch(first)))
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            await _cancel_all(tasks)
            raise
        if failures:
            raise NodeFailed(_summarise(failures, len(items)))
        return outputs


async def _cancel_all(tasks: Sequence[asyncio.Task[None]]) -> None:
    """Cancel ``tasks`` and wait until each has ended (its cleanup included)."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _outer_reads(body: ForEachBody) -> set[str]:
    inner = {n.id for n in body.nodes}
    reads: set[str] = set(template_references(body.output))
    for node in body.nodes:
        reads |= node_reads(node, [])
    return reads - inner


def _may_read_input(body: ForEachBody) -> bool:
    return re.search(r"\binput\b", body.model_dump_json()) is not None


def _summarise(failures: dict[int, NodeError], total: int) -> NodeError:
    indexes = sorted(failures)
    first = failures[indexes[0]]
    shown = ", ".join(str(i) for i in indexes[:20]) + (" ..." if len(indexes) > 20 else "")
    return NodeError(
        type="ItemsFailed",
        message=f"{len(indexes)} of {total} items failed (indexes {shown}); first: {first.message}",
        details={
            "failed": indexes[:1000],
            "errors": {str(i): failures[i].model_dump(mode="json") for i in indexes[:20]},
        },
    )


def _batch_failures(err: ChildWorkflowError, first: int) -> dict[int, NodeError]:
    cause = err.cause
    if isinstance(cause, ApplicationError) and cause.details and isinstance(cause.details[0], dict):
        details = cause.details[0].get("details", {})
        known = {int(i): NodeError.model_validate(e) for i, e in details.get("errors", {}).items()}
        if known:
            fallback = next(iter(known.values()))
            return {int(i): known.get(int(i), fallback) for i in details.get("failed", known)}
    return {first: NodeError(type="ChildFailed", message=str(cause or err))}
