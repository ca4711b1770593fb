"""A workflow's run metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.api.access import ReadableWorkflow
from app.api.deps import StateDep, TemporalDep
from app.runs.workflow_metrics import Bucket, WorkflowMetrics, workflow_metrics

router = APIRouter(tags=["workflows"])


@router.get("/workflows/{workflow_id}/metrics")
async def read_metrics(
    workflow: ReadableWorkflow,
    state: StateDep,
    temporal: TemporalDep,
    bucket: Annotated[Bucket, Query(description="The timeline's bucket length.")] = "hour",
    buckets: Annotated[int, Query(ge=1, le=366, description="How many buckets.")] = 24,
) -> WorkflowMetrics:
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
    return await workflow_metrics(
        temporal,
        workflow.id,
        max_runs=state.settings.metrics_max_runs,
        rpc_timeout=state.temporal.rpc_timeout,
        bucket=bucket,
        buckets=buckets,
    )
