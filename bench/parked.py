"""A hand-written workflow that waits for one signal, to weigh a parked run against.

It lives alone in this module because the workflow sandbox imports a
workflow's module anew for every run: a module with a benchmark's imports
would make the hand-written run look heavier than it is.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow


@workflow.defn
class ParkedOnSignal:
    """Parks until the ``go`` signal, then returns its payload."""

    def __init__(self) -> None:
        self._payload: list[Any] = []

    @workflow.signal
    def go(self, payload: Any) -> None:
        self._payload.append(payload)

    @workflow.run
    async def run(self) -> Any:
        await workflow.wait_condition(lambda: bool(self._payload))
        return self._payload[0]
