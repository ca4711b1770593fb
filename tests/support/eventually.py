"""Wait for state that arrives asynchronously, with a deadline instead of a sleep."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar, overload

from temporalio.service import RPCError

T = TypeVar("T")

Pending = Literal[False] | None
"""What a probe returns while the state it waits for is not there yet."""


@overload
async def eventually(
    probe: Callable[[], Awaitable[T | Pending]], *, within: float = ..., what: str = ...
) -> T: ...


@overload
async def eventually(
    probe: Callable[[], T | Pending], *, within: float = ..., what: str = ...
) -> T: ...


async def eventually(
    probe: Callable[[], object], *, within: float = 30.0, what: str = "condition"
) -> object:
    """Call ``probe`` until it returns neither ``None`` nor ``False``; return that value.

    ``probe`` may be a plain or an async callable. A Temporal RPC error counts as
    not yet: a query can reach a workflow before its first task has run.

    Args:
        probe: Returns the awaited value, or ``None``/``False`` while it is not there.
        within: Seconds before giving up: a bound against hangs, not a measure of
            speed (tests that assert a time say so themselves), so it is generous
            for a shared machine under load.
        what: Names the awaited state in the failure message.

    Returns:
        The first value ``probe`` returned that was neither ``None`` nor ``False``.

    Raises:
        AssertionError: ``probe`` did not succeed within ``within`` seconds.
    """
    deadline = time.monotonic() + within
    while True:
        value = await _attempt(probe)
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g}s waiting for {what}")
        await asyncio.sleep(0.05)


async def _attempt(probe: Callable[[], object]) -> object:
    try:
        value = probe()
        return await value if inspect.isawaitable(value) else value
    except RPCError:
        return None
