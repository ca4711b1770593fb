"""Config models of the nodes that structure a run: for_each, sub_workflow, wait_for_signal."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from interpreter.dsl.definition import Edge, Node
from interpreter.dsl.durations import Duration


class _Config(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ForEachBody(_Config):
    """The sub-DAG run once per item; its expressions also see ``item`` and ``index``."""

    nodes: list[Node] = Field(min_length=1, max_length=200)
    edges: list[Edge] = Field(default_factory=list, max_length=2000)
    output: Any = None


class ForEachConfig(_Config):
    """Attributes:
    items: CEL giving the list to iterate over.
    max_concurrency: Items in flight at once (server default if unset).
    fail_fast: Cancel the remaining items at the first failed item; otherwise
        every item runs and the node fails afterwards, naming the failed indexes.
    """

    items: str = Field(max_length=4096)
    body: ForEachBody
    max_concurrency: int | None = Field(default=None, ge=1, le=1000)
    fail_fast: bool = False


class SubWorkflowConfig(_Config):
    workflow_id: str = Field(min_length=1, max_length=200)
    version: int | None = Field(default=None, ge=1)
    input: Any = None


class WaitForSignalConfig(_Config):
    """Wait for ``POST /runs/{id}/signals/{signal}``; fail with SignalTimeout after ``timeout``."""

    signal: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    timeout: Duration | None = None
    schema_: dict[str, Any] | None = Field(default=None, alias="schema")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
