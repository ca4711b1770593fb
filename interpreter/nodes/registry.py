"""Every node type the DSL knows, and the questions asked of all of them.

This is the one dispatch point: the DAG engine, the executor, validation, the
operator checks and the API find a node's type here and ask the
:class:`~interpreter.nodes.kind.NodeKind` what to do. A new node type is a unit
(module) in this package and one line in :data:`KINDS`; the kinds the API or
the operator checks look for are exported by name (``SUB_WORKFLOW``, ...).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from interpreter.dsl.definition import Node
from interpreter.nodes.condition import CONDITION
from interpreter.nodes.fail import FAIL
from interpreter.nodes.for_each import FOR_EACH
from interpreter.nodes.http import HTTP
from interpreter.nodes.kind import NodeKind
from interpreter.nodes.log import LOG
from interpreter.nodes.script import SCRIPT
from interpreter.nodes.sub_workflow import SUB_WORKFLOW
from interpreter.nodes.succeed import SUCCEED
from interpreter.nodes.switch import SWITCH
from interpreter.nodes.transform import TRANSFORM
from interpreter.nodes.validate import VALIDATE
from interpreter.nodes.wait import WAIT
from interpreter.nodes.wait_for_signal import WAIT_FOR_SIGNAL
from interpreter.nodes.webhook import WEBHOOK

KINDS: dict[str, NodeKind] = {
    kind.name: kind
    for kind in (
        TRANSFORM,
        CONDITION,
        SWITCH,
        WAIT,
        FAIL,
        SUCCEED,
        FOR_EACH,
        SUB_WORKFLOW,
        WAIT_FOR_SIGNAL,
        HTTP,
        LOG,
        WEBHOOK,
        SCRIPT,
        VALIDATE,
    )
}
"""Every node type by name; a new type is one more line here."""

_BY_NAME: dict[str, NodeKind] = {
    **{alias: kind for kind in KINDS.values() for alias in kind.aliases},
    **KINDS,
}


def kind_of(node_type: str) -> NodeKind | None:
    """The kind for a type or alias, None if unknown."""
    return _BY_NAME.get(node_type)


def known_types() -> list[str]:
    """Every type and alias, sorted (for the message naming an unknown type)."""
    return sorted(_BY_NAME)


@dataclass(frozen=True)
class Placed:
    """A node found by :func:`walk`, and where it sits.

    Attributes:
        node: The node.
        kind: Its type.
        pointer: JSON pointer of the node in the definition
            (``/nodes/2/config/body/nodes/0``).
        path: How the run names it: ``call``, or ``loop[*].call`` inside a
            for_each body.
    """

    node: Node
    kind: NodeKind
    pointer: str
    path: str


def walk(nodes: Sequence[Node], pointer: str = "/nodes", prefix: str = "") -> Iterator[Placed]:
    """Every node of a known type, each followed by those of its nested DAGs.

    A nested DAG that does not parse is left out: the definition's validator
    reports it, and such a definition never runs.
    """
    for index, node in enumerate(nodes):
        kind = kind_of(node.type)
        if kind is None:
            continue
        where = f"{pointer}/{index}"
        yield Placed(node, kind, where, f"{prefix}{node.id}")
        for sub, dag in kind.sub_dags(node.config):
            yield from walk(
                dag.nodes, f"{where}/config/{sub.field}/nodes", f"{prefix}{node.id}[*]."
            )
