"""The rendered config of a ``script`` node."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

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
        plugin: A plugin to run instead of inline code: ``name@1.2.0``, or a
            range (``name@^1.2``) that the API resolves and pins when the run
            starts; the pinned config then holds the exact version here and
            the plugin's code and schemas below.
        input_schema: JSON Schema ``input`` must match (from the plugin).
        output_schema: JSON Schema ``main``'s result must match (from the plugin).
        input: The value passed to ``main``, rendered from its template.
        timeout: Wall-clock limit of one run; the worker's default if unset,
            and no more than the worker's maximum.
        memory_mb: Address-space limit of the child process in MiB; the
            worker's default if unset, and no more than the worker's maximum.
    """

    language: Literal["python"] = "python"
    code: str | None = Field(default=None, min_length=1, max_length=262_144)
    plugin: str | None = Field(default=None, min_length=1, max_length=200)
    input_schema: dict[str, Any] | None = None
    output_schema: dict[str, Any] | None = None
    input: Any = None
    timeout: Duration | None = None
    memory_mb: int | None = Field(default=None, ge=MIN_MEMORY_MB)

    @model_validator(mode="after")
    def _code_or_plugin(self) -> ScriptConfig:
        if self.code is None and self.plugin is None:
            raise ValueError("a script node needs code, or a plugin (name@version) to run")
        return self
