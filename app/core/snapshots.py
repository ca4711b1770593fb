"""Ended runs' status, kept by the API process so that reading one again is cheap.

A status query of an ended run has a worker replay the run's whole history
(Temporal keeps no ended workflow in a worker's cache): a few hundred
milliseconds for a 500-node run. What an ended run reports never changes, so
its answer is kept, least recently read dropped first, within a byte budget
(``FLOWFORGE_CLOSED_RUN_SNAPSHOT_BYTES``). ``app.runs.snapshot_cache`` reads
through it; an open run is always asked.
"""

from __future__ import annotations

from collections import OrderedDict

from interpreter.contract.run import RunSnapshot


class ClosedSnapshots:
    """A least-recently-read cache of ended runs' snapshots, by (run id, Temporal run id)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.used = 0
        self._kept: OrderedDict[tuple[str, str], tuple[RunSnapshot, int]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> RunSnapshot | None:
        """The kept snapshot of ``key``, marked as read now; None if none is kept."""
        found = self._kept.get(key)
        if found is None:
            return None
        self._kept.move_to_end(key)
        return found[0]

    def put(self, key: tuple[str, str], snap: RunSnapshot) -> None:
        """Keep ``snap`` (unless it alone is over the budget), dropping the oldest read."""
        size = len(snap.model_dump_json())
        if size > self.budget or key in self._kept:
            return
        self._kept[key] = (snap, size)
        self.used += size
        while self.used > self.budget:
            _, (_, dropped) = self._kept.popitem(last=False)
            self.used -= dropped
