"""Redriving failed runs in bulk: each again from its failing node, reusing what succeeded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.api.deps import EditorUser, StateDep, TemporalDep
from app.db.models.user import Role
from app.errors import ApiError, ErrorItem
from app.runs.failures import bounded, failure_inbox
from app.runs.redrive import RedriveVersion, rerun_run

router = APIRouter(tags=["runs"])


class RedriveFilter(BaseModel):
    """Which failed runs of the inbox to redrive (all given fields must match)."""

    model_config = ConfigDict(extra="forbid")

    workflow_id: uuid.UUID | None = None
    node_id: str | None = Field(default=None, min_length=1, max_length=200)
    since: datetime | None = Field(default=None, description="Runs started at or after.")


class RedriveIn(BaseModel):
    """Redrive failed runs: by ``run_ids``, or every inbox run matching ``filter``."""

    model_config = ConfigDict(extra="forbid")

    run_ids: list[Annotated[str, StringConstraints(min_length=1, max_length=200)]] | None = Field(
        default=None, min_length=1, max_length=1000
    )
    filter: RedriveFilter | None = None
    version: RedriveVersion = RedriveVersion.SAME

    @model_validator(mode="after")
    def _one_selection(self) -> RedriveIn:
        if (self.run_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of run_ids and filter")
        return self


class RedrivenRun(BaseModel):
    """A new run, and the failed run it redrives."""

    run_id: str
    rerun_of: str
    version: int


class RedriveRefused(BaseModel):
    """A run that was not redriven, and why (the HTTP status a single redrive would answer)."""

    run_id: str
    status: int
    detail: str


class RedriveAccepted(BaseModel):
    """The runs started, and the selected runs that could not be."""

    runs: list[RedrivenRun]
    refused: list[RedriveRefused] = Field(default_factory=list)


@router.post("/runs/redrive", status_code=status.HTTP_202_ACCEPTED)
async def redrive_runs(
    body: RedriveIn, user: EditorUser, state: StateDep, temporal: TemporalDep
) -> RedriveAccepted:
    """Rerun each selected failed run from the node that failed it, reusing every succeeded output.

    At most ``FLOWFORGE_REDRIVE_MAX_RUNS`` runs per call (more is a 422), restarted
    ``FLOWFORGE_REDRIVE_CONCURRENCY`` at a time.
    """
    cap = state.settings.redrive_max_runs
    if body.run_ids is not None:
        run_ids = list(dict.fromkeys(body.run_ids))
        path = "/body/run_ids"
    else:
        chosen = body.filter or RedriveFilter()
        inbox = await failure_inbox(
            client=temporal,
            state=state,
            owner_id=None if user.role == Role.ADMIN else user.id,
            workflow_id=chosen.workflow_id,
            since=chosen.since,
        )
        run_ids = [
            run.run_id
            for run in inbox.runs
            if chosen.node_id is None or run.node_id == chosen.node_id
        ]
        path = "/body/filter"
    if len(run_ids) > cap:
        raise ApiError(
            422,
            f"{len(run_ids)} runs selected, over the {cap} one redrive restarts "
            "(FLOWFORGE_REDRIVE_MAX_RUNS): narrow the filter or send fewer run_ids",
            errors=[ErrorItem(path=path, code="too_many_runs", message=f"more than {cap} runs")],
        )

    async def one(run_id: str) -> RedrivenRun | RedriveRefused:
        async with state.sessions() as session:
            try:
                redriven = await rerun_run(
                    client=temporal,
                    session=session,
                    state=state,
                    user=user,
                    run_id=run_id,
                    redrive=True,
                    version=body.version,
                )
            except ApiError as exc:
                return RedriveRefused(run_id=run_id, status=exc.status_code, detail=exc.detail)
        return RedrivenRun(
            run_id=redriven.accepted.run_id,
            rerun_of=run_id,
            version=redriven.accepted.version,
        )

    results = await bounded(run_ids, state.settings.redrive_concurrency, one)
    return RedriveAccepted(
        runs=[result for result in results if isinstance(result, RedrivenRun)],
        refused=[result for result in results if isinstance(result, RedriveRefused)],
    )
