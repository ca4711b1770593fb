"""``wait_for_signal``: wait for ``POST /runs/{id}/signals/{signal}``; its output is the payload.

Deliveries are workflow updates; ``interpreter.runtime.operator`` refuses a
signal no such node waits for, or a payload its ``schema`` rejects, before
anything enters history.
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field
from temporalio import workflow

from interpreter.contract.run import NodeError
from interpreter.dsl.definition import Node
from interpreter.dsl.durations import Duration, parse_duration
from interpreter.dsl.node_config import NodeConfig
from interpreter.nodes.kind import NodeDag, NodeDone, NodeFailed, NodeHost, NodeKind, Variables


class WaitForSignalConfig(NodeConfig):
    """Fail with SignalTimeout if no signal arrives within ``timeout``."""

    signal: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    timeout: Duration | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    model_config = ConfigDict(populate_by_name=True)


async def execute(host: NodeHost, dag: NodeDag, node: Node, _variables: Variables) -> NodeDone:
    """Take the oldest payload delivered for the signal, waiting for one if none is there.

    Raises:
        NodeFailed: ``SignalTimeout``, no signal came within ``timeout``.
    """
    config = WaitForSignalConfig.model_validate(node.config)
    dag.waiting(node.id)
    box = host.signal_box(config.signal)
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
    return NodeDone(box.pop(0))


WAIT_FOR_SIGNAL = NodeKind(
    "wait_for_signal", WaitForSignalConfig, execute=execute, schema_fields=("schema",)
)
