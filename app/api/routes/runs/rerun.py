"""Rerunning a run: same pinned definition and input, optionally from one node on."""

from __future__ import annotations

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field

from app.api.deps import EditorUser, RunId, SessionDep, StateDep, TemporalDep
from app.runs.redrive import rerun_run
from app.runs.schemas import RunAccepted

router = APIRouter(tags=["runs"])


class RerunIn(BaseModel):
    """Rerun a run.

    Attributes:
        from_node: Run this node and everything after it again; the nodes
            upstream of it that succeeded keep their old outputs.
    """

    model_config = ConfigDict(extra="forbid")

    from_node: str | None = Field(default=None, min_length=1, max_length=200)


@router.post("/runs/{run_id}/rerun", status_code=status.HTTP_202_ACCEPTED)
async def rerun(
    run_id: RunId,
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: RerunIn | None = None,
) -> RunAccepted:
    """Start a new run with the old run's input and pinned version (trigger ``rerun``).

    The new run's ``rerun_of`` is this run, and this run lists it in ``reruns``.
    """
    redriven = await rerun_run(
        client=temporal,
        session=session,
        state=state,
        user=user,
        run_id=run_id,
        from_node=body.from_node if body is not None else None,
    )
    return redriven.accepted
