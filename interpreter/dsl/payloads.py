"""How large a value is once it is a Temporal payload, and the error when it is too large.

Temporal refuses any payload over its blob size limit (2 MiB by default) and
fails the workflow task that carries it again and again, so a run whose node
result or output is too large would never end. FlowForge measures every value
before it hands it to Temporal (``RunOptions.max_payload_bytes``) and fails the
node, or the run, with ``OutputTooLarge`` instead.

Sizes are of the compact JSON the payload converter writes; the codec's
envelope adds some fifty bytes, which the limit's margin absorbs.
"""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

OUTPUT_TOO_LARGE = "OutputTooLarge"
"""The error type of a value over the payload limit (``interpreter.errors.OutputTooLarge``)."""

KEEP_LESS = (
    "keep less with the node's `output` (e.g. `{{ result.body.items.map(i, i.id) }}`) or fetch less"
)
"""The hint of a node whose result is too large."""


def payload_bytes(value: Any) -> int:
    """Bytes of ``value`` as compact JSON: what its Temporal payload holds."""
    return len(to_json(value, fallback=str))


def over_limit(value: Any, limit: int) -> int | None:
    """``value``'s size when it is over ``limit`` bytes, else None."""
    size = payload_bytes(value)
    return size if size > limit else None


def too_large_message(what: str, size: int, limit: int, hint: str = KEEP_LESS) -> str:
    """The message of an ``OutputTooLarge``: what, how large, the limit, and what to do."""
    return (
        f"{what} is {size} bytes as JSON, over the {limit}-byte limit of one Temporal "
        f"payload (FLOWFORGE_RUN_MAX_PAYLOAD_BYTES); {hint}"
    )


def too_large_details(size: int, limit: int) -> dict[str, Any]:
    """The ``details`` of an ``OutputTooLarge``."""
    return {"bytes": size, "limit": limit}
