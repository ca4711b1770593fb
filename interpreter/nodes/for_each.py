"""``for_each``: run a sub-DAG once per item of a list; outputs in item order.

The unit holds the config and evaluates ``items``; running the items (inline,
or in child-workflow batches past a threshold) is the runtime's
(:mod:`interpreter.runtime.for_each`), reached through :meth:`NodeDag.run_items`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from interpreter.contract.run import NodeError
from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.expressions import evaluate
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import (
    Located,
    NodeDag,
    NodeDone,
    NodeFailed,
    NodeHost,
    NodeKind,
    SubDag,
    SubDagField,
    Variables,
)


class ForEachBody(SubDag):
    """The sub-DAG run once per item; its expressions also see ``item`` and ``index``."""

    nodes: list[Node] = Field(min_length=1, max_length=200)
    edges: list[Edge] = Field(default_factory=list, max_length=2000)
    output: Any = None


class ForEachConfig(NodeConfig):
    """A for_each node's config: the list to iterate over and the body run per item.

    Attributes:
        items: CEL giving the list to iterate over.
        max_concurrency: Items in flight at once (server default if unset).
        fail_fast: Cancel the remaining items at the first failed item; otherwise
            every item runs and the node fails afterwards, naming the failed indexes.
    """

    items: str = Field(max_length=4096)
    body: ForEachBody
    max_concurrency: int | None = Field(default=None, ge=1, le=1000)
    fail_fast: bool = False


def _cel_fields(config: Mapping[str, Any]) -> Located:
    items = config.get("items")
    return [("/items", items)] if isinstance(items, str) else []


async def execute(_host: NodeHost, dag: NodeDag, node: Node, variables: Variables) -> NodeDone:
    """Evaluate ``items`` and run the body once per item; outputs in item order.

    Raises:
        NodeFailed: ``items`` is not a list, or items failed (naming them).
    """
    config = ForEachConfig.model_validate(node.config)
    items = evaluate(config.items, variables)
    if not isinstance(items, list):
        raise NodeFailed(
            NodeError(
                type="ConfigError", message=f"items must be a list, got {type(items).__name__}"
            )
        )
    return NodeDone(await dag.run_items(node, config, items))


FOR_EACH = NodeKind(
    "for_each",
    ForEachConfig,
    execute=execute,
    cel_fields=_cel_fields,
    sub_dag_fields=(SubDagField("body", ForEachBody, frozenset({"item", "index"})),),
)
