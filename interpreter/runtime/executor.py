"""Carrying out the nodes that need Temporal: activity nodes here, the others by their unit."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ActivityError

from interpreter.contract.oversize import oversize
from interpreter.contract.run import RunInput
from interpreter.contract.testing import NodeTest
from interpreter.dsl.definition import Node
from interpreter.nodes import ForEachConfig, NodeDone, NodeFailed, NodeKind
from interpreter.run_proof import ProofSubject
from interpreter.runtime.activity_call import activity_call
from interpreter.runtime.activity_errors import is_cancellation
from interpreter.runtime.dag import Dag
from interpreter.runtime.patches import Patches
from interpreter.runtime.subject import run_subject
from interpreter.runtime.test_doubles import under_test

INPUT_HINT = "pass it less of the upstream nodes' outputs (keep less with their `output`)"


PAYLOAD_LIMIT_PATCH = "payload-limit"
"""Runs recorded before values were measured against ``max_payload_bytes`` replay unchecked
(a value just under Temporal's own limit succeeded then). Runs recorded since, until
:data:`~interpreter.runtime.patches.DECIDED_AT_START_PATCH`, hold its marker in their first
workflow task; runs recorded after check values under that one marker."""


def input_too_large(
    value: Any, limit: int, path: str, checked: Callable[[], bool] = lambda: True
) -> None:
    """Refuse to hand Temporal an input (rendered config, context) it could not store.

    ``checked`` is asked only when the input is over ``limit``: False lets it through.

    Raises:
        NodeFailed: ``OutputTooLarge`` naming the node, the size and the limit.
    """
    error = oversize(
        f"node {path!r}: its input (rendered config and context)", value, limit, INPUT_HINT
    )
    if error is not None and checked():
        raise NodeFailed(error, 0)


if TYPE_CHECKING:
    from interpreter.runtime.for_each import ForEachRunner


class Executor:
    """Runs the nodes that need Temporal for every DAG of one workflow run.

    It is the :class:`~interpreter.nodes.NodeHost` node units execute with.

    Attributes:
        run: The run's input.
        payload_limit: The largest value (as JSON) handed to Temporal
            (``RunOptions.max_payload_bytes``; 0: unchecked, in runs recorded
            before the checks).
        signals: Delivered signal payloads not yet taken, by signal name.
        for_each: Runs for_each bodies (set by the run's host).
        tested: A test run's record of each node it carried out, by path:
            mocked or not, and its rendered config (the ``test_report`` query).
        patches: The run's patch decisions, made here, in its first activation
            (the workflow's ``__init__`` builds the host): see
            :mod:`interpreter.runtime.patches`.
    """

    def __init__(self, run: RunInput) -> None:
        self.run = run
        self.payload_limit = run.options.max_payload_bytes
        self.patches = Patches.decide()
        # A replayed history recorded before the decision at start holds this marker
        # in its first task (if it checked values at all): asked here, where those
        # runs asked. A new run asks nothing more: one marker costs a parked run
        # about 11 KiB of the SDK core's memory.
        recorded_check = workflow.unsafe.is_replaying() and workflow.patched(PAYLOAD_LIMIT_PATCH)
        self._checks_payloads = self.patches.at_start or recorded_check
        self.signals: dict[str, list[Any]] = {}
        self.for_each: ForEachRunner | None = None
        self.tested: dict[str, NodeTest] = {}

    def checks_payloads(self) -> bool:
        """Whether a value over :attr:`payload_limit` fails.

        False in runs recorded before the check (:data:`PAYLOAD_LIMIT_PATCH`),
        which let such values through. Decided in the first activation, never
        where a value is measured (see :mod:`interpreter.runtime.patches`).
        """
        return self._checks_payloads

    @cached_property
    def subject(self) -> ProofSubject:
        """What this run is, for its proof to be checked against; computed once, when needed."""
        return run_subject(self.run, workflow.info())

    def signal_box(self, name: str) -> list[Any]:
        """Payloads delivered for signal ``name`` and not yet taken, oldest first."""
        return self.signals.setdefault(name, [])

    async def execute(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        """Run a node that needs Temporal: by its unit's ``execute``, else as its activity.

        A test run (``RunMeta.test``) answers mocked nodes from their mock and
        refuses unmocked side effects first (:func:`under_test`). Other runs
        take no new step here, so their commands, and replays, are unchanged.
        """
        test = self.run.meta.test
        if test is None:
            return await self._real(dag, node, kind, variables)
        path = dag.path(node.id)
        return await under_test(
            test,
            self.run,
            path,
            node,
            kind,
            variables,
            self.tested,
            lambda: self._real(dag, node, kind, variables),
        )

    async def _real(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        if kind.execute is not None:
            return await kind.execute(self, dag, node, variables)
        return await self._activity(dag, node, kind, variables)

    async def run_items(
        self, dag: Dag, node: Node, config: ForEachConfig, items: list[Any]
    ) -> list[Any]:
        """Run a for_each node's body once per item, by the run's :class:`ForEachRunner`."""
        assert self.for_each is not None
        return await self.for_each.run(dag, node, config, items)

    async def _activity(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        info = workflow.info()
        # Items of a batched for_each run in a child; keys derive from the user's run.
        run_id = info.parent.workflow_id if self.run.batch and info.parent else info.workflow_id
        subject = self.subject if kind.reads_secrets else None
        call = activity_call(
            node,
            kind,
            self.run,
            variables,
            run_id,
            dag.path(node.id),
            subject,
            patches=self.patches,
        )
        if self.payload_limit:
            input_too_large(
                call.request, self.payload_limit, dag.path(node.id), self.checks_payloads
            )
        book = dag.book

        def retrying(failed: int, err: ActivityError, due: datetime) -> None:
            book.retrying(node.id, failed, call.failure(err)[0], due)

        try:
            result = await call.execute(retrying, lambda: book.attempting(node.id))
        except ActivityError as err:
            if is_cancellation(err):
                raise asyncio.CancelledError() from err
            error, attempts = call.failure(err)
            raise NodeFailed(error, attempts) from None
        return NodeDone(result.output, result.attempt)
