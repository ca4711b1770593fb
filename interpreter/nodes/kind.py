"""What one node type is, as the DAG engine, the executor and validation see it.

A node type is a :class:`NodeKind`: its config model, its save-time extras
(bare-CEL fields, extra rules, nested DAGs) and how it runs, which is exactly
one of

- ``evaluate``: a pure function of the config and the expression variables,
  run inside the workflow task (no timer, no activity, no child);
- ``execute``: a coroutine for a node that needs Temporal (a timer, a signal,
  a child workflow, a loop of sub-DAGs); it gets the run (:class:`NodeHost`)
  and the DAG (:class:`NodeDag`) it runs in;
- ``activity``: the name of the activity that carries the node out.

These types are the contract between the node units and the runtime: units
import nothing from :mod:`interpreter.runtime`, the runtime implements the two
protocols.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, Field, ValidationError

from interpreter.contract.run import NodeError, RunInput
from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.holes import has_holes
from interpreter.dsl.node_config import NodeConfig
from interpreter.errors import ExpressionError
from interpreter.run_proof import ProofSubject

if TYPE_CHECKING:
    from interpreter.nodes.for_each import ForEachConfig

Variables = dict[str, Any]
"""What an expression may read: ``input``, ``run``, ``nodes`` (and ``item``, ``index``)."""

Located = list[tuple[str, str]]
"""``(json_pointer relative to the config, text)`` pairs."""


@dataclass(frozen=True)
class Outcome:
    """What a pure node's evaluation gives.

    Attributes:
        output: The node's raw output (before its ``output`` mapping).
        succeed: End the DAG successfully with ``output`` (a succeed node).
        fail: End the DAG with this message (a fail node); None otherwise.
    """

    output: Any = None
    succeed: bool = False
    fail: str | None = None


@dataclass(frozen=True)
class NodeDone:
    """A node that needs Temporal finished; ``attempts`` as its activity reported."""

    output: Any
    attempts: int = 1


class NodeFailed(Exception):
    """A node failed (after its retries); raised by its execution."""

    def __init__(self, error: NodeError, attempts: int = 1) -> None:
        super().__init__(error.message)
        self.error = error
        self.attempts = attempts


class NodeDag(Protocol):
    """What a node's execution may ask of the DAG it runs in."""

    def path(self, node_id: str) -> str:
        """The node's path in the run (``loop[3].call`` inside a for_each item)."""
        ...

    def waiting(self, node_id: str) -> None:
        """Show the node as waiting (on a timer or a signal) rather than running."""
        ...

    async def run_items(self, node: Node, config: ForEachConfig, items: list[Any]) -> list[Any]:
        """Run ``config.body`` once per item; outputs in item order.

        Raises:
            NodeFailed: naming the failed items.
        """
        ...


class NodeHost(Protocol):
    """What a node's execution may ask of the workflow run carrying it out."""

    @property
    def run(self) -> RunInput:
        """The run's input: its definition, options and pinned sub-workflows."""
        ...

    @property
    def subject(self) -> ProofSubject:
        """What the run is, computed from what it runs: its children's lineage."""
        ...

    @property
    def payload_limit(self) -> int:
        """The largest value (as JSON) the run hands Temporal; 0: unchecked."""
        ...

    def checks_payloads(self) -> bool:
        """Whether a value over ``payload_limit`` fails (ask only once one is)."""
        ...

    def signal_box(self, name: str) -> list[Any]:
        """Payloads delivered for signal ``name`` and not yet taken, oldest first."""
        ...


Evaluate = Callable[[Mapping[str, Any], Variables], Outcome]
"""A pure node: its raw config (templates unrendered) and the variables -> its outcome.

Raises ExpressionError when an expression fails.
"""

Execute = Callable[[NodeHost, NodeDag, Node, Variables], Awaitable[NodeDone]]
"""A node that needs Temporal; raises NodeFailed or ExpressionError."""


class SubDag(NodeConfig):
    """A DAG nested in a node's config (a for_each body): ``{nodes, edges, output}``."""

    nodes: list[Node]
    edges: list[Edge] = Field(default_factory=list)
    output: Any = None


@dataclass(frozen=True)
class SubDagField:
    """A config field holding a :class:`SubDag`, checked at save time like the definition.

    Attributes:
        field: The config key.
        model: The nested DAG's shape and limits.
        names: Root names its expressions may read besides ``input``,
            ``nodes`` and ``run`` (``item`` and ``index`` in a for_each body).
    """

    field: str
    model: type[SubDag]
    names: frozenset[str] = frozenset()


def is_template(value: Any) -> bool:
    """Whether ``value`` is a string holding a hole (its type is known only once rendered)."""
    if not isinstance(value, str):
        return False
    try:
        return has_holes(value)
    except ExpressionError:
        return True  # an unparsable template: reported by the expression checks


def _nothing(_config: Mapping[str, Any]) -> Located:
    return []


@dataclass(frozen=True)
class NodeKind:
    """One node type.

    Attributes:
        name: The type as definitions write it.
        config_model: Checks the config at save time (templated values are
            exempt from type checks) and, for activities, at run time.
        aliases: Other names definitions may use for this type.
        evaluate: How a pure node runs (see :data:`Evaluate`).
        execute: How a node that needs Temporal runs (see :data:`Execute`).
        activity: The activity that carries out an activity node.
        cel_fields: Config fields holding bare CEL (not templates): their
            ``(json_pointer, source)`` pairs.
        cel_names: Root names those fields may read besides ``input``,
            ``nodes`` and ``run`` (a validate rule reads ``data``).
        checks: Save-time rules the config model cannot express, as
            ``(json_pointer, message)`` pairs; a templated value
            (:func:`is_template`) is checked only once rendered.
        schema_fields: Config fields holding a JSON Schema, checked as one.
        sub_dag_fields: Config fields holding a nested DAG.
        reads_secrets: The config may read ``secrets``; the workflow leaves
            those holes for the activity, which resolves and masks them.
        context_in_activity: The activity evaluates bare CEL itself and needs
            the expression variables (``ActivityRequest.context``).
        local: The activity is short and in-process, so a node may run it as a
            local activity (``RunOptions.local_activity_max_seconds``).
    """

    name: str
    config_model: type[BaseModel]
    aliases: tuple[str, ...] = ()
    evaluate: Evaluate | None = None
    execute: Execute | None = None
    activity: str | None = None
    cel_fields: Callable[[Mapping[str, Any]], Located] = _nothing
    cel_names: frozenset[str] = frozenset()
    checks: Callable[[Mapping[str, Any]], Located] = _nothing
    schema_fields: tuple[str, ...] = ()
    sub_dag_fields: tuple[SubDagField, ...] = ()
    reads_secrets: bool = False
    context_in_activity: bool = False
    local: bool = False

    def __post_init__(self) -> None:
        ways = [self.evaluate is not None, self.execute is not None, self.activity is not None]
        if sum(ways) != 1:
            raise ValueError(f"node type {self.name!r}: give one of evaluate, execute, activity")

    def sub_dags(self, config: Mapping[str, Any]) -> list[tuple[SubDagField, SubDag]]:
        """The nested DAGs of ``config`` that parse (validation reports the others)."""
        found: list[tuple[SubDagField, SubDag]] = []
        for sub in self.sub_dag_fields:
            try:
                found.append((sub, sub.model.model_validate(config.get(sub.field))))
            except ValidationError:
                continue
        return found
