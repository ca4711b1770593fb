"""Payloads of the operator updates, and the checks run before they are accepted.

Update validators run before anything is written to history, so a refused
payload leaves the run exactly as it was and the caller learns why at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import BaseModel, Field

from interpreter.dsl.definition import Definition, Node
from interpreter.dsl.schemas import SchemaRefused, schema_errors
from interpreter.nodes import WAIT_FOR_SIGNAL, WaitForSignalConfig, walk


class SignalDelivery(BaseModel):
    """A payload for the ``wait_for_signal`` nodes waiting for signal ``name``."""

    name: str = Field(max_length=100)
    payload: Any = None


class NodeRetry(BaseModel):
    """Re-run the failed node; ``config`` keys replace the node's config keys."""

    node_id: str
    config: dict[str, Any] | None = None


class NodeSkip(BaseModel):
    """Skip the failed node; downstream nodes see ``output`` as its output."""

    node_id: str
    output: Any = None


class Step(BaseModel):
    """Start the nodes ready now, then pause before the next (no fields yet)."""


class Breakpoints(BaseModel):
    """The node paths a run pauses before (``id``, ``loop[*].id``), or ``["*"]`` for every node."""

    breakpoints: list[str] = Field(default_factory=list, max_length=1000)


def check_breakpoints(definition: Definition, breakpoints: list[str]) -> None:
    """Raise ValueError naming every breakpoint that is no node of ``definition``."""
    known = {placed.path for placed in walk(definition.nodes)}
    unknown = [path for path in breakpoints if path != "*" and path not in known]
    if unknown:
        raise ValueError(
            f"no node {', '.join(map(repr, unknown))} in this run; breakpoints name node ids, "
            "or loop[*].id for a node in a for_each body, or '*'"
        )


def signal_listeners(nodes: list[Node]) -> Iterator[WaitForSignalConfig]:
    """Every wait_for_signal config, including those inside for_each bodies."""
    for placed in walk(nodes):
        if placed.kind is WAIT_FOR_SIGNAL:
            yield WaitForSignalConfig.model_validate(placed.node.config)


def check_signal(definition: Definition, delivery: SignalDelivery) -> None:
    """Raise ValueError naming the problem if no node takes this signal or the payload is bad."""
    listeners = [c for c in signal_listeners(definition.nodes) if c.signal == delivery.name]
    if not listeners:
        raise ValueError(f"no wait_for_signal node of this run waits for {delivery.name!r}")
    problems: list[str] = []
    for config in listeners:
        if config.schema_ is None:
            return
        try:
            errors = schema_errors(config.schema_, delivery.payload, formats=False)
        except SchemaRefused as exc:
            # A definition saved before references were checked, or a run
            # started straight on Temporal: refuse the signal, fetch nothing.
            raise ValueError(
                f"the signal's schema cannot be applied ({exc}); fix the definition"
            ) from None
        if not errors:
            return
        problems = [
            f"{'/' + '/'.join(str(p) for p in e.absolute_path)}: {e.message}" for e in errors
        ]
    raise ValueError("payload does not match the signal's schema: " + "; ".join(problems))
