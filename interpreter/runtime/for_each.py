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
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, ChildWorkflowError

from interpreter.contract import search_attributes as sa
from interpreter.contract.client import WORKFLOW_TYPE
from interpreter.contract.oversize import oversize
from interpreter.contract.run import (
    Batch,
    ItemOutputs,
    ItemsAsked,
    NodeError,
    RunInput,
    items_digest,
)
from interpreter.contract.testing import EdgeTaken
from interpreter.dsl.definition import Definition, Node
from interpreter.dsl.payloads import payload_bytes
from interpreter.errors import ExpressionError, expression_error_type
from interpreter.nodes import ForEachBody, ForEachConfig, NodeDone, NodeFailed, NodeKind
from interpreter.run_proof import ProofSubject
from interpreter.runtime.book import Stop
from interpreter.runtime.dag import Dag, Host
from interpreter.runtime.scope import Scope, node_reads, template_references
from interpreter.runtime.test_doubles import edge_report


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

    def holds(self, dag: Dag, node_id: str) -> bool:
        """As for the run: its breakpoints hold items' nodes too."""
        return self._host.holds(dag, node_id)

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


@dataclass
class ItemRecord:
    """What a run holds of one top-level for_each's items, kept for a redrive to reuse.

    Only workflow memory, never a command: a query on a failed run (replayed
    by a worker) reads it, so runs that failed before it existed have it too.

    Attributes:
        items: The items (None in a batch run: its parent has them).
        total: How many items.
        outputs: Outputs of the items that succeeded so far, by index.
        batches: Workflow ids of batch runs that failed (they hold their items').
        shown: What the node's progress also shows of a redrive's reuse.
    """

    items: list[Any] | None
    total: int
    outputs: dict[int, Any] = field(default_factory=dict)
    batches: list[str] = field(default_factory=list)
    shown: dict[str, Any] = field(default_factory=dict)


class ForEachRunner:
    """Runs the for_each bodies of one workflow run.

    Args:
        host: The run's host.
        run: The run's input.
        subject: What the run is (``Executor.subject``): batches carry it as
            their lineage, with the run's proof.

    Attributes:
        live: The item DAGs running now (resume pumps them too).
        records: What the run holds of each top-level for_each's items, by
            node id, while it runs and after it failed (see :meth:`answer`).
        ended_item_edges: On a test run, the body edges of each inline item
            DAG that ended, by (for_each path, item index), for the
            ``test_report`` query (see :meth:`item_edges`), at most
            ``RunOptions.test_report_max_edges`` of them; ``ended_edges_left_off``
            counts the others.
    """

    def __init__(
        self,
        host: Host,
        run: RunInput,
        subject: Callable[[], ProofSubject],
        *,
        payload_limit: int = 0,
        checks_payloads: Callable[[], bool] = lambda: True,
    ) -> None:
        self.host = host
        self.payload_limit = payload_limit
        self.checks_payloads = checks_payloads
        self.run_input = run
        self._subject = subject
        self.live: set[Dag] = set()
        self.records: dict[str, ItemRecord] = {}
        self.ended_item_edges: dict[tuple[str, int], list[EdgeTaken]] = {}
        self.ended_edges_left_off = 0
        self._kept_edges = 0
        self._item_keys: dict[Dag, tuple[str, int]] = {}
        self._item_host = ItemHost(host)

    def _record_item_edges(self, key: tuple[str, int], dag: Dag) -> None:
        """Keep an ended item's body edges for the report, up to ``test_report_max_edges``."""
        edges = edge_report(dag)
        room = max(0, self.run_input.options.test_report_max_edges - self._kept_edges)
        if room:
            self.ended_item_edges[key] = edges[:room]
            self._kept_edges += min(room, len(edges))
        self.ended_edges_left_off += max(0, len(edges) - room)

    def item_edges(self) -> tuple[list[list[EdgeTaken]], int]:
        """The body edges of every inline item DAG, ended or running, in item order.

        At most ``test_report_max_edges`` in all; the second value counts those left off.
        """
        edges = dict(self.ended_item_edges)
        left_off = self.ended_edges_left_off
        if self.run_input.meta.test is not None:
            for dag, key in self._item_keys.items():
                if dag.scheduler.edges and key not in edges:
                    edges[key] = edge_report(dag)
        room = self.run_input.options.test_report_max_edges
        shown: list[list[EdgeTaken]] = []
        for key in sorted(edges):
            kept = edges[key][:room]
            left_off += len(edges[key]) - len(kept)
            room -= len(kept)
            if kept:
                shown.append(kept)
        return shown, left_off

    async def run(self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]) -> list[Any]:
        """Every item of a for_each node, inline or in batches; outputs in item order.

        Items a redrive carries the outputs of (``RunInput.reuse_items``) are
        taken as given; the rest run, in batches only if more than the
        threshold are left to run.

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
        top = not dag.prefix and self.run_input.batch is None
        done: dict[int, Any] = {}
        if top:
            record = ItemRecord(items=items, total=len(items))
            done = self._reused(node.id, items, record)
            record.outputs.update(done)
            self.records[node.id] = record
            if record.shown:
                dag.book.progress(node.id, _progress(record, len(done), len(items), {}))
        if (
            len(items) - len(done) > options.for_each_batch_threshold
            and self.run_input.batch is None
        ):
            outputs = await self._batched(dag, node, config, items, done)
        else:
            outputs = await self.run_inline(
                dag, node.id, config, items, range(len(items)), dag.scope, done
            )
        if top:
            # The node's output now holds them all: a redrive reuses it whole.
            self.records.pop(node.id, None)
        return outputs

    def _reused(self, node_id: str, items: list[Any], record: ItemRecord) -> dict[int, Any]:
        """The item outputs this run takes from the run it redrives, by index."""
        given = self.run_input.reuse_items.get(node_id)
        if given is None:
            return {}
        note = given.note
        if note is None and (given.total != len(items) or given.digest != items_digest(items)):
            note = "its items differ from those of the run redriven: every item runs again"
        if note is not None:
            workflow.logger.warning("for_each %s: %s", node_id, note)
            record.shown = {"reuse": note}
            return {}
        record.shown = {"reused": len(given.outputs)}
        return dict(given.outputs)

    def answer(self, asked: ItemsAsked) -> ItemOutputs:
        """What this run holds of a top-level for_each's items (the ``item_outputs`` query)."""
        record = self.records.get(asked.node_id)
        if record is None:
            return ItemOutputs()
        size = payload_bytes(record.outputs)
        too_large = size > asked.budget
        return ItemOutputs(
            known=True,
            total=record.total,
            digest=items_digest(record.items) if record.items is not None else "",
            outputs={} if too_large else record.outputs,
            batches=record.batches,
            size=size,
            too_large=too_large,
        )

    async def run_inline(
        self,
        dag: Dag,
        node_id: str,
        config: ForEachConfig,
        items: list[Any],
        indexes: Sequence[int],
        parent_scope: Scope,
        done: dict[int, Any] | None = None,
    ) -> list[Any]:
        """Run every item inline, as a DAG of this workflow; outputs in item order.

        Also the whole work of a batch's child run (``indexes`` are its items'
        indexes). Items in ``done`` (outputs by index) do not run again.

        Raises:
            NodeFailed: naming the failed indexes.
        """
        done = done or {}
        limit = config.max_concurrency or self.run_input.options.for_each_default_concurrency
        budget = self.run_input.options.for_each_nodes_per_task
        per_task = max(1, budget // len(config.body.nodes))
        record = None if dag.prefix else self.records.get(node_id)
        outputs: list[Any] = [done.get(index) for index in indexes]
        failures: dict[int, NodeError] = {}
        tasks: list[asyncio.Task[None]] = []
        slots = _Slots(finished=len(done))

        async def one(position: int) -> None:
            index = indexes[position]
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
                checks_payloads=self.checks_payloads,
                prefix=f"{dag.path(node_id)}[{index}].",
                spans=dag.spans,
            )
            self.live.add(item_dag)
            self._item_keys[item_dag] = (dag.path(node_id), index)
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
                    else:
                        if record is not None:
                            record.outputs[index] = outputs[position]
                if error is not None:
                    failures[index] = error
            except asyncio.CancelledError:
                item_dag.halt(Stop("cancelled"))
                await workflow.wait_condition(lambda: not item_dag.tasks)
                raise
            finally:
                if self.run_input.meta.test is not None and config.body.edges:
                    self._record_item_edges((dag.path(node_id), index), item_dag)
                self.live.discard(item_dag)
                self._item_keys.pop(item_dag, None)
                slots.active -= 1
                slots.finished += 1
                dag.book.progress(node_id, _progress(record, slots.finished, len(items), failures))

        try:
            started = 0
            for position in range(len(items)):
                if indexes[position] in done:
                    continue
                await workflow.wait_condition(
                    lambda: (
                        (slots.active < limit and self.host.may_start())
                        or bool(failures and config.fail_fast)
                    )
                )
                if failures and config.fail_fast:
                    break
                if started and started % per_task == 0:
                    # Items whose body is pure all run inside one workflow task;
                    # a short timer ends the task so no task nears the SDK's
                    # 2-second deadlock limit, however heavy the body. Timers
                    # cost a round trip, so light bodies never need one.
                    await workflow.sleep(timedelta(milliseconds=1))
                started += 1
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
        self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any], done: dict[int, Any]
    ) -> list[Any]:
        size = self.run_input.options.for_each_batch_size
        pending = [index for index in range(len(items)) if index not in done]
        chunks = [pending[start : start + size] for start in range(0, len(pending), size)]
        outputs: list[Any] = [done.get(index) for index in range(len(items))]
        record = None if dag.prefix else self.records.get(node.id)
        failures: dict[int, NodeError] = {}
        outer = _outer_reads(config.body)
        outer_values = {node_id: dag.scope.lookup(node_id) for node_id in outer}
        # Each batch carries the run input only if the body may read it: a large
        # input (often the item list itself) would otherwise be copied per batch.
        run_input = self.run_input.input if _may_read_input(config.body) else None
        slots = _Slots(finished=len(done))
        tasks: list[asyncio.Task[None]] = []

        async def batch(chunk: list[int]) -> None:
            first, last = chunk[0], chunk[-1]
            # Items that follow on from the first need no indexes (a batch of a first run).
            indexes = None if last - first + 1 == len(chunk) else chunk
            child = RunInput(
                definition=Definition(
                    name=f"{self.run_input.definition.name}/{node.id}", nodes=[node]
                ),
                input=run_input,
                meta=self.run_input.meta,
                options=self.run_input.options,
                children=self.run_input.children,
                depth=self.run_input.depth,
                batch=Batch(
                    node_id=node.id,
                    items=[items[index] for index in chunk],
                    first_index=first,
                    outer=outer_values,
                    indexes=indexes,
                ),
                proof=self.run_input.proof,
                lineage=self._subject(),
            )
            too_large = self.payload_limit and oversize(
                f"node {dag.path(node.id)!r}: the input of its batch of items {first}..{last}",
                child,
                self.payload_limit,
                "iterate over smaller items (e.g. ids), or lower FLOWFORGE_FOR_EACH_BATCH_SIZE",
            )
            child_id = f"{workflow.info().workflow_id}/{dag.path(node.id)}/{first}"
            try:
                if too_large and self.checks_payloads():
                    failures[first] = too_large
                    return
                result: list[Any] = await workflow.execute_child_workflow(
                    WORKFLOW_TYPE,
                    child,
                    id=child_id,
                    search_attributes=TypedSearchAttributes(
                        [SearchAttributePair(sa.TRIGGER, sa.BATCH_TRIGGER)]
                    ),
                    cancellation_type=workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
                    static_summary=f"{node.id} items {first}..{last}",
                )
                for index, output in zip(chunk, result, strict=False):
                    outputs[index] = output
                    if record is not None:
                        record.outputs[index] = output
            except ChildWorkflowError as err:
                failures.update(_batch_failures(err, first))
                if record is not None:
                    # The child holds the outputs of its items that succeeded.
                    record.batches.append(child_id)
            finally:
                slots.active -= 1
                slots.finished += len(chunk)
                dag.book.progress(node.id, _progress(record, slots.finished, len(items), failures))

        try:
            for chunk in chunks:
                await workflow.wait_condition(
                    lambda: (
                        slots.active < self.run_input.options.for_each_parallel_batches
                        and self.host.may_start()
                    )
                )
                if failures and config.fail_fast:
                    break
                slots.active += 1
                tasks.append(asyncio.create_task(batch(chunk)))
            await asyncio.gather(*tasks)
        except asyncio.CancelledError:
            await _cancel_all(tasks)
            raise
        if failures:
            raise NodeFailed(_summarise(failures, len(items)))
        return outputs


def _progress(
    record: ItemRecord | None, done: int, total: int, failures: dict[int, NodeError]
) -> dict[str, Any]:
    progress: dict[str, Any] = {"done": done, "total": total, "failed": len(failures)}
    if record is not None:
        progress.update(record.shown)
    return progress


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
