"""Redriving failed runs in bulk: each again from its failing node, reusing what succeeded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.api.deps import CurrentUser, EditorUser, StateDep, TemporalDep, idempotency_key
from app.db.models.user import Role
from app.errors import ApiError, ErrorItem
from app.runs.failures import failure_inbox
from app.runs.launch import input_digest
from app.runs.redrive import RedriveVersion
from app.runs.redrive_batches import batch_progress, new_batch_id, start_batch, wait_for_batch
from app.runs.redrive_schemas import RedriveProgress

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


@router.post("/runs/redrive", status_code=status.HTTP_202_ACCEPTED)
async def redrive_runs(
    body: RedriveIn,
    user: EditorUser,
    state: StateDep,
    temporal: TemporalDep,
    key: Annotated[
        str | None,
        idempotency_key(
            "Names the batch: the same key with the same request answers the batch it "
            "started instead of redriving again (another request: 422).",
            alias="Idempotency-Key",
        ),
    ] = None,
) -> RedriveProgress:
    """Rerun each selected failed run from the node that failed it, reusing every succeeded output.

    The runs are restarted by a Temporal workflow of their own (a redrive batch,
    ``FLOWFORGE_REDRIVE_CONCURRENCY`` at a time), at most
    ``FLOWFORGE_REDRIVE_MAX_RUNS`` per call (more is a 422). The answer waits up
    to ``FLOWFORGE_REDRIVE_WAIT_SECONDS`` for the batch; a batch still going is
    ``status: running``, followed with ``GET /runs/redrive/{batch_id}``.
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
    batch_id = new_batch_id(key)
    handle = await start_batch(
        client=temporal,
        state=state,
        user=user,
        batch_id=batch_id,
        run_ids=run_ids,
        version=body.version,
        request_digest=input_digest(body.model_dump(mode="json")),
    )
    return await wait_for_batch(handle, state, batch_id, len(run_ids))


@router.get("/runs/redrive/{batch_id}")
async def redrive_batch(
    batch_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")],
    user: CurrentUser,
    state: StateDep,
    temporal: TemporalDep,
) -> RedriveProgress:
    """A redrive batch of yours: the runs it started and refused so far, and whether it is done.

    Someone else's batch is a 404, an admin's too.
    """
    return await batch_progress(client=temporal, state=state, user=user, batch_id=batch_id)
