"""Carrying out nodes that need Temporal: activities, timers, signals, children."""

from __future__ import annotations

import asyncio
from collections import deque
from typing import TYPE_CHECKING, Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, ChildWorkflowError

from interpreter.contract.client import WORKFLOW_TYPE, run_search_attributes
from interpreter.contract.run import NodeError, RunInput, RunMeta, child_key
from interpreter.dsl.definition import Node
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.holes import render
from interpreter.nodes.control import SubWorkflowConfig, WaitForSignalConfig
from interpreter.nodes.registry import NodeKind
from interpreter.runtime.activity_errors import activity_failure, is_cancellation
from interpreter.runtime.dag import Dag, NodeDone, NodeFailed
from interpreter.runtime.steps import activity_call, wait_delay

if TYPE_CHECKING:
    from interpreter.runtime.for_each import ForEachRunner


class Executor:
    """Runs the non-pure nodes of every DAG of one workflow run."""

    def __init__(self, run: RunInput) -> None:
        self.run = run
        self.signals: dict[str, deque[Any]] = {}
        self.for_each: ForEachRunner | None = None

    async def execute(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        name = kind.name
        if name == "wait":
            dag.book.waiting(node.id)
            delay = wait_delay(node.config, variables, workflow.now())
            await workflow.sleep(delay, summary=f"{dag.path(node.id)}: wait")
            return NodeDone({"waited": f"{delay.total_seconds():g}s"})
        if name == "wait_for_signal":
            return await self._wait_for_signal(dag, node)
        if name == "sub_workflow":
            return await self._sub_workflow(dag, node, variables)
        if name == "for_each":
            assert self.for_each is not None
            return await self.for_each.execute(dag, node, variables)
        return await self._activity(dag, node, kind, variables)

    async def _activity(
        self, dag: Dag, node: Node, kind: NodeKind, variables: dict[str, Any]
    ) -> NodeDone:
        info = workflow.info()
        # Items of a batched for_each run in a child; keys derive from the user's run.
        run_id = info.parent.workflow_id if self.run.batch and info.parent else info.workflow_id
        call = activity_call(node, kind, self.run, variables, run_id, dag.path(node.id))
        try:
            result = await call.execute()
        except ActivityError as err:
            if is_cancellation(err):
                raise asyncio.CancelledError() from err
            error, attempts = activity_failure(err, call.retry.attempts)
            raise NodeFailed(error, attempts) from None
        return NodeDone(result.output, result.attempt)

    async def _wait_for_signal(self, dag: Dag, node: Node) -> NodeDone:
        config = WaitForSignalConfig.model_validate(node.config)
        dag.book.waiting(node.id)
        box = self.signals.setdefault(config.signal, deque())
        timeout = parse_duration(config.timeout) if config.timeout else None
        try:
            await workflow.wait_condition(lambda: bool(box), timeout=timeout)
        except TimeoutError:
            raise NodeFailed(
                NodeError(
                    type="SignalTimeout",
                    message=f"no {config.signal!r} signal within {config.timeout}",
                )
            ) from None
        return NodeDone(box.popleft())

    async def _sub_workflow(self, dag: Dag, node: Node, variables: dict[str, Any]) -> NodeDone:
        rendered = render(node.config, variables, where="config")
        config = SubWorkflowConfig.model_validate(rendered)
        pinned = self.run.children.get(child_key(config.workflow_id, config.version))
        if pinned is None:
            raise NodeFailed(
                NodeError(
                    type="ConfigError",
                    message=f"workflow {config.workflow_id!r} was not pinned when the run started",
                )
            )
        if self.run.depth + 1 > self.run.options.max_sub_workflow_depth:
            raise NodeFailed(
                NodeError(
                    type="ConfigError",
                    message="sub_workflow nesting deeper than "
                    f"{self.run.options.max_sub_workflow_depth}",
                )
            )
        child = RunInput(
            definition=pinned.definition,
            input=config.input,
            meta=RunMeta(
                workflow_id=pinned.workflow_id,
                version=pinned.version,
                owner=self.run.meta.owner,
                trigger="sub_workflow",
            ),
            options=self.run.options,
            children=self.run.children,
            depth=self.run.depth + 1,
        )
        timeout = pinned.definition.timeout
        try:
            output = await workflow.execute_child_workflow(
                WORKFLOW_TYPE,
                child,
                id=f"{workflow.info().workflow_id}/{dag.path(node.id)}",
                execution_timeout=parse_duration(timeout) if timeout else None,
                search_attributes=run_search_attributes(child),
                cancellation_type=workflow.ChildWorkflowCancellationType.WAIT_CANCELLATION_COMPLETED,
                static_summary=f"{node.id}: {pinned.definition.name} v{pinned.version}",
            )
        except ChildWorkflowError as err:
            cause = err.cause
            message = cause.message if isinstance(cause, ApplicationError) else str(cause or err)
            kind = (
                cause.type if isinstance(cause, ApplicationError) and cause.type else "ChildFailed"
            )
            raise NodeFailed(NodeError(type=kind or "ChildFailed", message=message)) from None
        return NodeDone(output)
