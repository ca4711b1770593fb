"""A workflow's run metrics: Temporal visibility, and the node stats runs leave in their memo."""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from temporalio.client import Client, WorkflowExecution

from app.runs.reading import list_runs, visibility_query
from app.runs.status import run_status
from interpreter.contract import search_attributes as sa
from interpreter.contract.client import NODE_STATS_MEMO
from interpreter.contract.run import RunStatus

# Visibility names of each count's execution status (None: every run).
_COUNTED = {
    "total": None,
    "running": "Running",
    "succeeded": "Completed",
    "failed": "Failed",
    "cancelled": "Canceled",
    "terminated": "Terminated",
    "timed_out": "TimedOut",
}


class RunCounts(BaseModel):
    """How many of the workflow's runs are in each status.

    Attributes:
        running: Runs not finished yet, paused and suspended ones included.
    """

    total: int
    succeeded: int
    failed: int
    cancelled: int
    running: int
    terminated: int
    timed_out: int


class Durations(BaseModel):
    """Run durations in milliseconds, start to close, of the scanned runs (None: no runs)."""

    p50: int | None = None
    p95: int | None = None
    max: int | None = None


class NodeMetrics(BaseModel):
    """One node over the runs scanned.

    Attributes:
        failures: Runs in which the node ended failed.
        retries: Attempts beyond the first, added up.
        p95_ms: 95th percentile of its duration (first start to end).
    """

    failures: int = 0
    retries: int = 0
    p95_ms: int | None = None


Bucket = Literal["minute", "hour", "day"]
_BUCKET_SIZES: dict[str, timedelta] = {
    "minute": timedelta(minutes=1),
    "hour": timedelta(hours=1),
    "day": timedelta(days=1),
}


class TimeBucket(BaseModel):
    """The runs that started within one time bucket.

    Attributes:
        start: The bucket's start (UTC); it lasts one ``Timeline.bucket``.
        runs: Runs by status as they are now (every status a key, 0 included).
        p50_ms: Median duration of the bucket's finished runs (None: none finished).
        p95_ms: Their 95th percentile.
    """

    start: datetime
    total: int = 0
    runs: dict[str, int]
    p50_ms: int | None = None
    p95_ms: int | None = None


class Timeline(BaseModel):
    """Runs by start time, for charts: runs by status and durations per bucket.

    Attributes:
        bucket: Each bucket's length.
        buckets: Oldest first; the last one holds the current time.
        truncated: More runs started in the window than ``FLOWFORGE_METRICS_MAX_RUNS``:
            only the newest are counted, so the oldest buckets fall short.
    """

    bucket: Bucket
    buckets: list[TimeBucket]
    truncated: bool = False


class WorkflowMetrics(BaseModel):
    """Counts cover every run; durations and nodes the newest ``scanned`` finished runs.

    ``success_rate`` is succeeded / finished runs (None before any finished).
    ``timeline`` buckets the runs that started in the last ``buckets`` buckets.
    """

    runs: RunCounts
    success_rate: float | None
    duration_ms: Durations
    nodes: dict[str, NodeMetrics] = Field(default_factory=dict)
    scanned: int
    timeline: Timeline | None = None


class VersionMetrics(BaseModel):
    """One version's runs, for comparing a rollout's arms.

    Attributes:
        arm: ``stable`` (the active version) or ``candidate`` under a rollout; else None.
    """

    version: int
    arm: str | None = None
    metrics: WorkflowMetrics


class WorkflowMetricsByVersion(WorkflowMetrics):
    """A workflow's metrics, and the same figures for each version compared."""

    versions: list[VersionMetrics]


async def _nothing() -> None:
    return None


def percentile(values: Sequence[int], p: float) -> int | None:
    """The nearest-rank ``p``-th percentile, None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


async def _count(client: Client, query: str, rpc_timeout: timedelta) -> int:
    return (await client.count_workflows(query, rpc_timeout=rpc_timeout)).count


async def _counts(client: Client, base: str, rpc_timeout: timedelta) -> RunCounts:
    queries = [
        base if status is None else f"{base} AND ExecutionStatus = '{status}'"
        for status in _COUNTED.values()
    ]
    numbers = await asyncio.gather(*(_count(client, q, rpc_timeout) for q in queries))
    return RunCounts(**dict(zip(_COUNTED, numbers, strict=True)))


async def _finished(
    client: Client, base: str, limit: int, rpc_timeout: timedelta
) -> list[WorkflowExecution]:
    query = f"{base} AND ExecutionStatus != 'Running'"
    return await list_runs(client, query, limit=limit, rpc_timeout=rpc_timeout)


def _node_metrics(stats: list[dict[str, Any]]) -> dict[str, NodeMetrics]:
    failures: dict[str, int] = {}
    retries: dict[str, int] = {}
    durations: dict[str, list[int]] = {}
    for run in stats:
        for node_id, entry in run.items():
            if not isinstance(entry, dict):
                continue
            failures[node_id] = failures.get(node_id, 0) + (entry.get("s") == "failed")
            retries[node_id] = retries.get(node_id, 0) + max(int(entry.get("a", 0)) - 1, 0)
            if isinstance(entry.get("ms"), int):
                durations.setdefault(node_id, []).append(entry["ms"])
    return {
        node_id: NodeMetrics(
            failures=failures[node_id],
            retries=retries[node_id],
            p95_ms=percentile(durations.get(node_id, []), 95),
        )
        for node_id in failures
    }


def _floor(moment: datetime, bucket: Bucket) -> datetime:
    moment = moment.astimezone(UTC).replace(second=0, microsecond=0)
    if bucket in ("hour", "day"):
        moment = moment.replace(minute=0)
    if bucket == "day":
        moment = moment.replace(hour=0)
    return moment


def _duration_ms(run: WorkflowExecution) -> int | None:
    if run.close_time is None or run.start_time is None:
        return None
    return int((run.close_time - run.start_time).total_seconds() * 1000)


async def timeline(
    client: Client,
    base: str,
    *,
    bucket: Bucket,
    buckets: int,
    max_runs: int,
    rpc_timeout: timedelta,
    now: datetime | None = None,
) -> Timeline:
    """The runs of query ``base`` that started in the last ``buckets`` buckets, by bucket."""
    size = _BUCKET_SIZES[bucket]
    first = _floor(now or datetime.now(UTC), bucket) - size * (buckets - 1)
    since = first.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    runs = await list_runs(
        client, f"{base} AND StartTime >= '{since}'", limit=max_runs + 1, rpc_timeout=rpc_timeout
    )
    truncated = len(runs) > max_runs
    statuses = [status.value for status in RunStatus]
    shown = [
        TimeBucket(start=first + size * k, runs=dict.fromkeys(statuses, 0)) for k in range(buckets)
    ]
    durations: list[list[int]] = [[] for _ in range(buckets)]
    for run in runs[:max_runs]:
        if run.start_time is None:
            continue
        index = int((run.start_time - first) / size)
        if not 0 <= index < buckets:
            continue
        status = run_status(run.status, run.typed_search_attributes.get(sa.STATUS))
        shown[index].runs[status.value] += 1
        shown[index].total += 1
        took = _duration_ms(run)
        if took is not None:
            durations[index].append(took)
    for entry, values in zip(shown, durations, strict=True):
        entry.p50_ms = percentile(values, 50)
        entry.p95_ms = percentile(values, 95)
    return Timeline(bucket=bucket, buckets=shown, truncated=truncated)


async def workflow_metrics(
    client: Client,
    workflow_id: uuid.UUID,
    *,
    max_runs: int,
    rpc_timeout: timedelta,
    bucket: Bucket = "hour",
    buckets: int = 24,
    version: int | None = None,
) -> WorkflowMetrics:
    """Metrics of every run of ``workflow_id``, scanning at most ``max_runs`` finished ones.

    With ``version``, of that version's runs only, and without a timeline.
    """
    base = visibility_query(workflow_id=workflow_id, status=None, owner_id=None)
    if version is not None:
        base += f" AND {sa.VERSION.name} = {int(version)}"
    counts, finished, chart = await asyncio.gather(
        _counts(client, base, rpc_timeout),
        _finished(client, base, max_runs, rpc_timeout),
        _nothing()
        if version is not None
        else timeline(
            client,
            base,
            bucket=bucket,
            buckets=buckets,
            max_runs=max_runs,
            rpc_timeout=rpc_timeout,
        ),
    )
    durations = [
        int((run.close_time - run.start_time).total_seconds() * 1000)
        for run in finished
        if run.close_time is not None
    ]
    stats = []
    for run in finished:
        memo = await run.memo()
        entry = memo.get(NODE_STATS_MEMO)
        if isinstance(entry, dict):
            stats.append(entry)
    closed = counts.total - counts.running
    return WorkflowMetrics(
        runs=counts,
        success_rate=round(counts.succeeded / closed, 4) if closed else None,
        duration_ms=Durations(
            p50=percentile(durations, 50),
            p95=percentile(durations, 95),
            max=max(durations, default=None),
        ),
        nodes=_node_metrics(stats),
        scanned=len(finished),
        timeline=chart,
    )
