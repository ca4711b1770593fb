"""The node (or run) error of a value too large to hand to Temporal."""

from __future__ import annotations

from typing import Any

from interpreter.contract.run import NodeError
from interpreter.dsl.payloads import (
    KEEP_LESS,
    OUTPUT_TOO_LARGE,
    over_limit,
    too_large_details,
    too_large_message,
)


def oversize(what: str, value: Any, limit: int, hint: str = KEEP_LESS) -> NodeError | None:
    """``OutputTooLarge`` when ``value`` is over ``limit`` bytes as JSON, else None.

    ``what`` names the value (``node 'fetch': its output``); the message adds
    the size, the limit and ``hint``.
    """
    size = over_limit(value, limit)
    if size is None:
        return None
    return NodeError(
        type=OUTPUT_TOO_LARGE,
        message=too_large_message(what, size, limit, hint),
        details=too_large_details(size, limit),
    )
