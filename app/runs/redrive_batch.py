"""The redrive batch workflow: one activity per run, a few at a time.

Runs on the API's task queue (the activity needs the API's services:
PostgreSQL, pinning, the run index). The workflow holds no service code and
stays deterministic: it only fans the runs out to ``redrive_run`` activities
and collects what each answers, in the order the runs were selected.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from app.runs.redrive_schemas import (
        BATCH_WORKFLOW,
        FAILED,
        NO_WORKER,
        PROGRESS_QUERY,
        REDRIVE_ACTIVITY,
        UNAUTHORIZED,
        RedriveBatch,
        RedriveOutcome,
        RedriveProgress,
        RedriveRefused,
        RedriveTask,
    )

# Past the first attempt only "no worker answered" is retried; the activity
# raises every other failure as non-retryable (its own types, listed here too).
_FIRST_RETRY = timedelta(seconds=1)


@workflow.defn(name=BATCH_WORKFLOW)
class RedriveBatchWorkflow:
    """Redrive a batch's runs, ``batch.concurrency`` at a time, into a :class:`RedriveProgress`."""

    def __init__(self) -> None:
        self._batch_id = ""
        self._run_ids: list[str] = []
        self._done: dict[int, RedriveOutcome] = {}

    @workflow.run
    async def run(self, batch: RedriveBatch) -> RedriveProgress:
        """Every run redriven or refused, in the order selected."""
        self._batch_id = batch.batch_id
        self._run_ids = list(batch.run_ids)
        limit = asyncio.Semaphore(batch.concurrency)

        async def one(index: int, run_id: str) -> None:
            async with limit:
                self._done[index] = await self._redrive(batch, run_id)

        await asyncio.gather(*(one(index, run_id) for index, run_id in enumerate(self._run_ids)))
        return self._progress("succeeded")

    @workflow.query(name=PROGRESS_QUERY)
    def progress(self) -> RedriveProgress:
        """What is done so far."""
        return self._progress("running")

    async def _redrive(self, batch: RedriveBatch, run_id: str) -> RedriveOutcome:
        try:
            outcome: RedriveOutcome = await workflow.execute_activity(
                REDRIVE_ACTIVITY,
                RedriveTask(batch=batch, run_id=run_id),
                result_type=RedriveOutcome,
                start_to_close_timeout=timedelta(seconds=batch.run_timeout),
                retry_policy=RetryPolicy(
                    initial_interval=_FIRST_RETRY,
                    maximum_attempts=batch.attempts,
                    non_retryable_error_types=[UNAUTHORIZED, FAILED],
                ),
            )
        except ActivityError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == UNAUTHORIZED:
                # The whole batch is forged, not this run: fail it, redrive nothing more.
                forged = ApplicationError(cause.message, type=UNAUTHORIZED, non_retryable=True)
                raise forged from exc
            transient = isinstance(cause, ApplicationError) and cause.type == NO_WORKER
            detail = cause.message if isinstance(cause, FailureError) else exc.message
            return RedriveOutcome(
                refused=RedriveRefused(
                    run_id=run_id, status=503 if transient else 500, detail=detail
                )
            )
        return outcome

    def _progress(self, status: str) -> RedriveProgress:
        done = [self._done[index] for index in sorted(self._done)]
        return RedriveProgress.model_validate(
            {
                "batch_id": self._batch_id,
                "status": status,
                "total": len(self._run_ids),
                "runs": [outcome.run for outcome in done if outcome.run is not None],
                "refused": [outcome.refused for outcome in done if outcome.refused is not None],
            }
        )
