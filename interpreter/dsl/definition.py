"""Pydantic models of a workflow definition (DSL v1, see docs/DSL.md).

The models check shape and types only; cross-field rules (references, cycles,
expression syntax, node configs) live in :mod:`interpreter.validation.definition`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from interpreter.dsl.durations import Duration, parse_duration

NODE_ID_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"
DEFAULT_RETRY_ON_STATUS = (408, 429, 500, 502, 503, 504)

Join = Literal["all_success", "any_success", "all_done"]
EdgeOn = Literal["success", "failure", "always"]
OnFailure = Literal["fail", "continue", "suspend"]
RetryStrategy = Literal["exponential", "linear", "fixed", "none"]
Execution = Literal["local", "activity"]
"""How an activity node is carried out: a local activity in the workflow's worker when it
is short enough (``local``), or always a regular activity (``activity``); see docs/RUNS.md."""


class _Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class RetrySpec(_Strict):
    """How a failed node attempt is retried.

    Attributes:
        strategy: ``exponential`` (default) and ``fixed`` map onto Temporal's
            RetryPolicy; ``linear`` waits ``initial_interval * attempt``;
            ``none`` runs once.
        max_attempts: Total attempts including the first (capped by the server).
        jitter: Randomise each delay between 50% and 100% of its value.
        non_retryable_errors: Error types (see :mod:`interpreter.errors`) that
            stop retrying at once.
        retry_on_status: HTTP statuses that are retried; other 4xx are not.
    """

    strategy: RetryStrategy = "exponential"
    max_attempts: int = Field(default=3, ge=1, le=1000)
    initial_interval: Duration = "1s"
    backoff_coefficient: float = Field(default=2.0, ge=1.0, le=100.0)
    max_interval: Duration = "1m"
    jitter: bool = False
    non_retryable_errors: list[str] = Field(default_factory=list, max_length=50)
    retry_on_status: list[int] = Field(
        default_factory=lambda: list(DEFAULT_RETRY_ON_STATUS), max_length=100
    )

    @property
    def attempts(self) -> int:
        """How many attempts the spec allows in all (1 for ``strategy: none``)."""
        return 1 if self.strategy == "none" else self.max_attempts

    def delay_before(self, attempt: int) -> timedelta:
        """The wait before ``attempt`` (2 = first retry), jitter not applied."""
        initial = parse_duration(self.initial_interval)
        cap = parse_duration(self.max_interval)
        if self.strategy == "linear":
            delay = initial * (attempt - 1)
        elif self.strategy == "fixed":
            delay = initial
        else:
            delay = initial * (self.backoff_coefficient ** (attempt - 2))
        return min(delay, cap)


class Defaults(_Strict):
    """What a node that sets no ``timeout``, ``retry`` or ``execution`` of its own gets."""

    timeout: Duration = "30s"
    retry: RetrySpec = Field(default_factory=RetrySpec)
    execution: Execution = "local"


class Node(_Strict):
    """One node of the DAG. ``config`` is type-specific and may hold templates."""

    id: str = Field(pattern=NODE_ID_PATTERN)
    type: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    retry: RetrySpec | None = None
    timeout: Duration | None = None
    total_timeout: Duration | None = None
    when: str | None = Field(default=None, max_length=4096)
    output: Any = None
    join: Join = "all_success"
    circuit_breaker: str | None = Field(default=None, max_length=200)
    task_queue: str | None = Field(default=None, max_length=200)
    idempotency: bool = False
    execution: Execution | None = None


class Edge(_Strict):
    """``from`` -> ``to``, taken on the source's outcome (``on``) when ``when`` holds."""

    source: str = Field(alias="from", max_length=63)
    target: str = Field(alias="to", max_length=63)
    on: EdgeOn = "success"
    when: str | None = Field(default=None, max_length=4096)


class Trigger(BaseModel):
    """A trigger declared in the definition (``event`` etc.); extra keys allowed."""

    model_config = ConfigDict(extra="allow")
    type: str = Field(min_length=1, max_length=64)


class Definition(_Strict):
    """A whole workflow definition."""

    dsl_version: Literal[1] = 1
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=4000)
    input_schema: dict[str, Any] | None = None
    defaults: Defaults = Field(default_factory=Defaults)
    max_concurrency: int | None = Field(default=None, ge=1, le=10_000)
    timeout: Duration | None = None
    on_failure: OnFailure = "fail"
    triggers: list[Trigger] = Field(default_factory=list, max_length=50)
    nodes: list[Node] = Field(min_length=1)
    edges: list[Edge] = Field(default_factory=list)
    output: Any = None
