"""What a run is, computed by its own workflow code, for activities to check its proof against.

Workflow code holds no key, so it cannot tell a valid proof from a forged one;
it computes, deterministically and from what it actually runs, the
:class:`~interpreter.run_proof.ProofSubject` a proof must match, and the
activity that holds the keys checks the two (``RunKeys.owner``).
"""

from __future__ import annotations

from temporalio import workflow

from interpreter.contract.run import RunInput
from interpreter.run_proof import ProofSubject, definition_digest

_FORGED_CARRY = (
    "the run carries a continue-as-new state, but it was not continued from a run of its "
    "own: a state written by whoever started it is not covered by its proof"
)


def run_subject(run: RunInput, info: workflow.Info) -> ProofSubject:
    """The subject of ``run``: its own, or (a child of an interpreter run) its parent's lineage.

    ``RunInput.lineage`` is believed only when Temporal says the run has a
    parent: nobody can start a workflow as another's child from a client,
    and only FlowForge's workflow code starts interpreter children, so the
    lineage was computed by a parent from what that parent ran.
    """
    meta = run.meta
    lineage = run.lineage if info.parent is not None else None
    if lineage is not None:
        if run.batch is not None:
            # A batch runs one node of its parent's definition: the parent's proof covers it.
            return lineage
        return lineage.model_copy(
            update={
                "workflow_id": meta.workflow_id,
                "version": meta.version,
                "owner": meta.owner,
                "digest": definition_digest(run.definition),
            }
        )
    continued = info.continued_run_id is not None and info.attempt == 1 and not info.cron_schedule
    return ProofSubject(
        run_id=info.workflow_id,
        workflow_id=meta.workflow_id,
        version=meta.version,
        owner=meta.owner,
        digest=definition_digest(run.definition),
        root=run.root_digest(),
        # A workflow retry or a cron run is continued too, but with the
        # starter's input: only a continue-as-new (attempt 1, no cron) made the carry.
        problem=_FORGED_CARRY if run.carry is not None and not continued else None,
    )
