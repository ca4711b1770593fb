"""``sub_workflow``: run another stored workflow as a child run; its output is the child's.

The API resolves and pins every target when the run starts (``RunInput.children``),
so a run never reads the store; ``app.workflows.sub_workflows`` finds these nodes.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from temporalio import workflow
from temporalio.exceptions import ApplicationError, ChildWorkflowError

from interpreter.contract.client import WORKFLOW_TYPE, run_search_attributes
from interpreter.contract.oversize import oversize
from interpreter.contract.run import NodeError, RunInput, RunMeta, child_key
from interpreter.dsl.definition import Node
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.holes import render
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import NodeDag, NodeDone, NodeFailed, NodeHost, NodeKind, Variables


class SubWorkflowConfig(NodeConfig):
    """The stored workflow to run (its active version unless ``version``) and its input."""

    workflow_id: str = Field(min_length=1, max_length=200)
    version: int | None = Field(default=None, ge=1)
    input: Any = None


def _config_error(message: str) -> NodeFailed:
    return NodeFailed(NodeError(type="ConfigError", message=message))


async def execute(host: NodeHost, dag: NodeDag, node: Node, variables: Variables) -> NodeDone:
    """Run the pinned target as a child run and return the child's output.

    Raises:
        NodeFailed: the target was not pinned, nesting is too deep, or the child
            failed (under its error's type).
    """
    run = host.run
    rendered = render(node.config, variables, where="config")
    config = SubWorkflowConfig.model_validate(rendered)
    pinned = run.children.get(child_key(config.workflow_id, config.version))
    if pinned is None:
        raise _config_error(f"workflow {config.workflow_id!r} was not pinned when the run started")
    if run.depth + 1 > run.options.max_sub_workflow_depth:
        raise _config_error(
            f"sub_workflow nesting deeper than {run.options.max_sub_workflow_depth}"
        )
    child = RunInput(
        definition=pinned.definition,
        input=config.input,
        meta=RunMeta(
            workflow_id=pinned.workflow_id,
            version=pinned.version,
            owner=run.meta.owner,
            # A child a test run runs for real is part of the test: kept out of
            # lists and metrics like it. It runs for real whole, so no mocks.
            trigger="test" if run.meta.test is not None else "sub_workflow",
        ),
        options=run.options,
        children=run.children,
        depth=run.depth + 1,
        proof=pinned.proof,
        lineage=host.subject,
    )
    too_large = host.payload_limit and oversize(
        f"node {dag.path(node.id)!r}: the child run's input",
        child,
        host.payload_limit,
        "pass the sub_workflow less `input`",
    )
    if too_large and host.checks_payloads():
        raise NodeFailed(too_large)
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
        kind = cause.type if isinstance(cause, ApplicationError) and cause.type else "ChildFailed"
        raise NodeFailed(NodeError(type=kind or "ChildFailed", message=message)) from None
    return NodeDone(output)


SUB_WORKFLOW = NodeKind("sub_workflow", SubWorkflowConfig, execute=execute)
