"""The API's side of run proofs: signing a run input for the run id it starts under.

See :mod:`interpreter.run_proof` for what a proof says and how workers check it.
"""

from __future__ import annotations

from interpreter.contract.run import RunInput
from interpreter.run_proof import RunKeys, RunProof, definition_digest


def sign_run(run: RunInput, run_id: str, keys: RunKeys, *, prefix: bool = False) -> RunInput:
    """``run`` with the proof that the API starts it as ``run_id``, and one per pinned target.

    Any proof or lineage the input carried (a rerun copies an old input) is replaced.

    Args:
        run: A top-level run's input.
        run_id: The Temporal workflow id it starts under; with ``prefix``, the
            id Temporal extends for each run (a schedule's action id).
        keys: The signing keys (the current one signs).
        prefix: The proof holds for every run id ``<run_id>-...``.
    """
    root = run.root_digest()
    owner = run.meta.owner

    def proof(workflow_id: str, version: int, digest: str) -> RunProof:
        claims = RunProof(
            owner=owner,
            workflow_id=workflow_id,
            version=version,
            run_id=run_id,
            run_id_prefix=prefix,
            digest=digest,
            root=root,
        )
        return keys.sign(claims)

    children = {
        key: pinned.model_copy(
            update={
                "proof": proof(
                    pinned.workflow_id, pinned.version, definition_digest(pinned.definition)
                )
            }
        )
        for key, pinned in run.children.items()
    }
    signed = proof(run.meta.workflow_id, run.meta.version, definition_digest(run.definition))
    return run.model_copy(update={"proof": signed, "children": children, "lineage": None})
