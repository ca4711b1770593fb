"""A workflow's run metrics."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.access import ReadableWorkflow
from app.api.deps import StateDep, TemporalDep
from app.errors import ApiError, ErrorItem
from app.runs.workflow_metrics import (
    Bucket,
    VersionMetrics,
    WorkflowMetrics,
    WorkflowMetricsByVersion,
    workflow_metrics,
)
from app.workflows.rollout import CANDIDATE, STABLE

MAX_VERSIONS = 10
"""Versions compared in one ``by=version`` answer: each costs a scan of its runs."""

router = APIRouter(tags=["workflows"])


@router.get("/workflows/{workflow_id}/metrics")
async def read_metrics(
    workflow: ReadableWorkflow,
    state: StateDep,
    temporal: TemporalDep,
    bucket: Annotated[Bucket, Query(description="The timeline's bucket length.")] = "hour",
    buckets: Annotated[int, Query(ge=1, le=366, description="How many buckets.")] = 24,
    by: Annotated[
        Literal["version"] | None, Query(description="version: the figures per version too.")
    ] = None,
    versions: Annotated[
        list[int] | None,
        Query(
            description="With by=version: which (default: a rollout's two arms, else the "
            f"active version); at most {MAX_VERSIONS}."
        ),
    ] = None,
) -> WorkflowMetrics | WorkflowMetricsByVersion:
    """Run counts and success rate, with durations and per-node figures of recent runs.

    Counts and success rate cover every run; durations and per-node failures,
    retries and p95 cover the newest finished runs (at most
    ``FLOWFORGE_METRICS_MAX_RUNS``).

    ``timeline`` counts the runs that started in each of the last ``buckets``
    buckets (``minute``, ``hour`` or ``day``, in UTC) by status, with the p50
    and p95 durations of those that finished: the data of a runs-over-time chart.

    Temporal's visibility is eventually consistent: a run that just ended may
    take a moment to be counted.
    """
    figures = await workflow_metrics(
        temporal,
        workflow.id,
        max_runs=state.settings.metrics_max_runs,
        rpc_timeout=state.temporal.rpc_timeout,
        bucket=bucket,
        buckets=buckets,
    )
    if by is None:
        return figures
    arms = {workflow.active_version: STABLE} if workflow.rollout_candidate else {}
    if workflow.rollout_candidate is not None:
        arms[workflow.rollout_candidate] = CANDIDATE
    compared = list(dict.fromkeys(versions or list(arms) or [workflow.active_version]))
    if len(compared) > MAX_VERSIONS:
        raise ApiError(
            422,
            f"compare at most {MAX_VERSIONS} versions at once",
            errors=[ErrorItem(path="/query/versions", code="too_many", message="too many")],
        )
    each = await asyncio.gather(
        *(
            workflow_metrics(
                temporal,
                workflow.id,
                max_runs=state.settings.metrics_max_runs,
                rpc_timeout=state.temporal.rpc_timeout,
                version=number,
            )
            for number in compared
        )
    )
    return WorkflowMetricsByVersion(
        **figures.model_dump(),
        versions=[
            VersionMetrics(version=number, arm=arms.get(number), metrics=shown)
            for number, shown in zip(compared, each, strict=True)
        ],
    )
