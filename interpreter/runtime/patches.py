"""Which patched branches a run takes, decided once, in its first workflow activation.

Why not ``workflow.patched(X)`` where the branch is taken: the SDK answers it
during replay from the patch markers core has announced so far, and core
announces a marker only when it applies the workflow task whose commands hold
it. So a call answers as recorded only if the replay makes it in an activation
of the same workflow task the live run made it in. After a local activity it
need not. Live, core records the activity's marker in the task that is
open when the activity ends, and the workflow sees the result in the next
activation, which may belong to the next task (core may close a task while
local activities run, to answer a query or to heartbeat). On replay core resolves
the activity from its marker, in the marker's task. Code after a local node
(``ActivityCall.failure``, the run's end) then runs a task early, where the
marker is not yet announced: ``patched`` answers False, memoizes it and
issues no command, and the marker met later fails the task with
``[TMPRL1100] Non-deprecated patch marker encountered for change ... but
there is no corresponding change command``. The run is stuck.

The first activation is always the first task's (its commands complete that
task), so a run started now decides there, with one marker,
:data:`DECIDED_AT_START_PATCH`: present, every patch in :data:`DECIDED_AT_START`
is on for the whole run, no further marker. A run recorded before it has no such
marker in its first task, so on replay the gate answers False and each of those
patches is asked where it always was, as it was recorded.

A new patch must be decided in :meth:`Patches.decide` as well, never at the
branch: add a field, set from its own ``workflow.patched`` there.
"""

from __future__ import annotations

from dataclasses import dataclass

from temporalio import workflow

from interpreter.contract.client import NODE_STATS_MEMO

DECIDED_AT_START_PATCH = "patches-decided-at-start"
"""Present in a run's first task: the patches of :data:`DECIDED_AT_START` are all on."""

TIMEOUT_ERRORS_PATCH = "timeout-errors-name-their-limit"
"""Runs recorded before it gave every timed-out node the terse ``Timeout`` error; an edge's
``when`` may read the error, so replays of those runs keep it."""

LOCAL_ACTIVITIES_PATCH = "local-activities"
"""Runs recorded before it ran every activity node as a regular activity, and replay so."""

NODE_STATS_PATCH = NODE_STATS_MEMO
"""Runs recorded before it ended without the per-node counts in their memo."""

DECIDED_AT_START = frozenset({TIMEOUT_ERRORS_PATCH, LOCAL_ACTIVITIES_PATCH, NODE_STATS_PATCH})
"""The patches older than :data:`DECIDED_AT_START_PATCH`, which runs recorded before it
asked where their branch was taken (see the module docstring)."""


@dataclass(frozen=True)
class Patches:
    """The run's patch decisions; :meth:`decide` it in the first activation only."""

    at_start: bool

    @classmethod
    def decide(cls) -> Patches:
        """Decide in the run's first activation (the workflow's ``__init__``)."""
        return cls(at_start=workflow.patched(DECIDED_AT_START_PATCH))

    def enabled(self, patch_id: str) -> bool:
        """Whether the run takes ``patch_id``'s patched branch; call it at the branch.

        A run recorded before the decision at start asks ``workflow.patched`` here,
        where it always did, so its replay matches its history.
        """
        assert patch_id in DECIDED_AT_START, patch_id
        return self.at_start or workflow.patched(patch_id)
