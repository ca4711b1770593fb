"""The rendered config of a ``script`` node."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from interpreter.dsl.durations import Duration
from interpreter.dsl.node_config import NodeConfig

MIN_MEMORY_MB = 32
"""Below this the interpreter itself may not fit once the limit applies."""


class ScriptConfig(NodeConfig):
    """Config of a ``script`` node (see DSL.md).

    Attributes:
        language: Only ``python``.
        code: Python source that defines ``main(input)``; what ``main`` returns
            (JSON: dict, list, str, number, bool or None) is the node's output.
            Only the standard library is importable; there is no network.
        input: The value passed to ``main``, rendered from its template.
        timeout: Wall-clock limit of one run; the worker's default if unset,
            and no more than the worker's maximum.
        memory_mb: Address-space limit of the child process in MiB; the
            worker's default if unset, and no more than the worker's maximum.
    """

    language: Literal["python"] = "python"
    code: str = Field(min_length=1, max_length=262_144)
    input: Any = None
    timeout: Duration | None = None
    memory_mb: int | None = Field(default=None, ge=MIN_MEMORY_MB)
