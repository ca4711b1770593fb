"""A test run's nodes: answered by their mock, refused, or run for real, and recorded.

:meth:`Executor.execute <interpreter.runtime.executor.Executor.execute>` asks
:func:`under_test` before a node's activity or unit runs, on test runs only
(``RunMeta.test``). A mock answers in workflow code: no activity is scheduled
and no child started, so nothing leaves the run. What the node would have sent
(its config rendered as its activity would get it, ``secrets`` holes left
unrendered) is recorded for the ``test_report`` query either way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from temporalio import workflow

from interpreter.activities.secrets import SECRET_ROOT
from interpreter.contract.run import NodeError, RunInput
from interpreter.contract.testing import (
    NOT_MOCKED,
    SIDE_EFFECT_TYPES,
    EdgeTaken,
    Mock,
    NodeTest,
    TestReport,
    TestSpec,
)
from interpreter.dsl.definition import Node
from interpreter.dsl.holes import render
from interpreter.nodes import NodeDone, NodeFailed, NodeKind
from interpreter.runtime.retry_policy import effective_retry

if TYPE_CHECKING:
    from interpreter.runtime.dag import Dag


def rendered_config(node: Node, kind: NodeKind, variables: dict[str, Any]) -> Any:
    """The config as the node's activity (or a sub_workflow) gets it; None for other units.

    Raises:
        ExpressionError: a template in the config failed, as it would for real.
    """
    if kind.activity is None and kind.name != "sub_workflow":
        return None  # a for_each body or a wait's fields are not rendered whole
    defer = (SECRET_ROOT,) if kind.reads_secrets else ()
    return render(node.config, variables, where="config", defer=defer)


async def under_test(
    spec: TestSpec,
    run: RunInput,
    path: str,
    node: Node,
    kind: NodeKind,
    variables: dict[str, Any],
    record: dict[str, NodeTest],
    real: Callable[[], Awaitable[NodeDone]],
) -> NodeDone:
    """Carry out one node of a test run: its mock, ``NotMocked``, or ``real()``.

    Raises:
        NodeFailed: ``NotMocked``, or the mock's error once its attempts are spent.
        ExpressionError: the config does not render.
    """
    config = rendered_config(node, kind, variables)
    mock = spec.mock_for(path)
    if mock is not None:
        record[path] = NodeTest(mocked=True, config=config)
        return await answer(mock, run, node)
    if kind.name in SIDE_EFFECT_TYPES and not spec.runs_for_real(path):
        record[path] = NodeTest(refused=True, config=config)
        raise NodeFailed(
            NodeError(
                type=NOT_MOCKED,
                message=(
                    f"a test run does not run {kind.name} nodes for real: give it a mock, "
                    "or name it in run_for_real"
                ),
                details={"node": path},
            ),
            0,
        )
    record[path] = NodeTest(config=config)
    return await real()


async def answer(mock: Mock, run: RunInput, node: Node) -> NodeDone:
    """The mock's answer, attempt after attempt as the node's retry block allows.

    Raises:
        NodeFailed: the last attempt's error (a non-retryable type stops at once).
    """
    retry = effective_retry(
        node.retry or run.definition.defaults.retry, run.options.max_attempts_cap
    )
    steps = mock.steps()
    attempt = 1
    while True:
        step = steps[min(attempt, len(steps)) - 1]
        if step.error is None:
            return NodeDone(step.output, attempt)
        error = NodeError(**step.error.model_dump())
        if attempt >= retry.attempts or error.type in retry.non_retryable_errors:
            raise NodeFailed(error, attempt)
        attempt += 1
        await workflow.sleep(retry.delay_before(attempt))


_FOLLOWS = {"success": {"succeeded"}, "failure": {"failed"}, "always": {"succeeded", "failed"}}
"""The source outcomes each ``on`` follows (as :mod:`interpreter.runtime.scheduler` decides)."""


def edge_report(dag: Dag) -> list[EdgeTaken]:
    """Each edge of ``dag``, by node path (``loop[0].a`` in a for_each item): taken, and why."""
    edges: list[EdgeTaken] = []
    for edge, taken in zip(dag.scheduler.edges, dag.scheduler.taken, strict=True):
        source, target = dag.path(edge.source), dag.path(edge.target)
        status = dag.book.get(edge.source).status.value
        if taken is None:
            why = f"{source} has not ended ({status})"
        elif status not in _FOLLOWS[edge.on]:
            why = f"{source} {status}; the edge follows on {edge.on}"
        elif edge.when is not None:
            why = f"{source} {status} and `when: {edge.when}` was {str(taken).lower()}"
        else:
            why = f"{source} {status}, which `on: {edge.on}` follows"
        edges.append(EdgeTaken(source=source, target=target, taken=taken, why=why))
    return edges


def test_report(
    dag: Dag, tested: dict[str, NodeTest], items: Sequence[list[EdgeTaken]] = ()
) -> TestReport:
    """The report of a test run: ``tested``, the edges of its top-level ``dag``, then ``items``.

    ``items`` are the edges of the for_each item DAGs this run ran inline
    (:attr:`ForEachRunner.item_edges <interpreter.runtime.for_each.ForEachRunner.item_edges>`).
    """
    edges = edge_report(dag)
    for item in items:
        edges.extend(item)
    return TestReport(nodes=tested, edges=edges)
