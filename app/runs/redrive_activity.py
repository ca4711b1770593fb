"""The activity of a redrive batch: redrive one run, for the user the API signed the batch for.

Every API replica polls the API's task queue, so an attempt may run on any of
them: it holds no state of its own, reads the user from PostgreSQL, and
finds the run an earlier attempt of the same batch started (by ``rerun_of``
and the batch's ``issued_at``) instead of starting a second one.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from app.core.state import AppState
from app.core.temporal import TemporalUnavailable, is_unreachable
from app.db.crud.runs import rerun_since
from app.db.crud.users import get_user
from app.db.models.user import Role, User
from app.errors import ApiError
from app.runs.redrive import rerun_run
from app.runs.redrive_schemas import (
    FAILED,
    NO_WORKER,
    REDRIVE_ACTIVITY,
    UNAUTHORIZED,
    RedriveBatch,
    RedrivenRun,
    RedriveOutcome,
    RedriveRefused,
    RedriveTask,
)
from interpreter.run_proof import RunKeys


def sign_batch(batch: RedriveBatch, keys: RunKeys) -> RedriveBatch:
    """``batch`` with the API's signature."""
    return batch.model_copy(update={"signature": keys.mac(batch.signed_bytes())})


def check_batch(batch: RedriveBatch, run_id: str, workflow_id: str, keys: RunKeys) -> None:
    """Refuse a batch the API did not sign for the workflow it runs in.

    Raises:
        ApplicationError: non-retryable, of type ``UNAUTHORIZED``.
    """
    if not batch.signature or not keys.holds(batch.signed_bytes(), batch.signature):
        raise _unauthorized(
            "the redrive batch carries no valid signature of the FlowForge API (batches "
            "started straight on Temporal may not act for a user): use POST /runs/redrive"
        )
    if batch.workflow_id != workflow_id:
        raise _unauthorized(
            f"the redrive batch was signed for workflow {batch.workflow_id!r}, not {workflow_id!r}"
        )
    if run_id not in batch.run_ids:
        raise _unauthorized(f"run {run_id} is not one of the redrive batch's runs")


class RedriveActivity:
    """``redrive_run``, with the API process's state."""

    def __init__(self, state: AppState) -> None:
        self._state = state

    @activity.defn(name=REDRIVE_ACTIVITY)
    async def redrive_run(self, task: RedriveTask) -> RedriveOutcome:
        """Redrive ``task.run_id`` as the batch's owner; a refusal is an outcome, not a failure.

        Raises:
            ApplicationError: ``UNAUTHORIZED`` for a batch the API did not sign;
                ``NO_WORKER`` (retried) while no worker answers for the run and
                attempts remain; ``FAILED`` for anything unexpected.
        """
        info = activity.info()
        batch, run_id = task.batch, task.run_id
        check_batch(batch, run_id, info.workflow_id or "", self._state.settings.run_keys())
        try:
            async with self._state.sessions() as session:
                user = await _acting_user(session, batch)
                if user is None:
                    return _refused(
                        run_id,
                        ApiError(403, "the user of this redrive batch may no longer redrive runs"),
                    )
                earlier = await _started_by_batch(session, batch, run_id)
                if earlier is not None:
                    return RedriveOutcome(run=earlier)
                client = await self._state.temporal.client()
                redriven = await rerun_run(
                    client=client,
                    session=session,
                    state=self._state,
                    user=user,
                    run_id=run_id,
                    redrive=True,
                    version=batch.version,
                )
        except (ApiError, TemporalUnavailable, RPCError) as exc:
            error = _as_api_error(exc)
            if error is None:
                raise _failed(run_id, exc) from exc
            if error.status_code == 503 and info.attempt < batch.attempts:
                raise ApplicationError(error.detail, type=NO_WORKER) from exc
            return _refused(run_id, error)
        except Exception as exc:
            raise _failed(run_id, exc) from exc
        return RedriveOutcome(
            run=RedrivenRun(
                run_id=redriven.accepted.run_id,
                rerun_of=run_id,
                version=redriven.accepted.version,
            )
        )


async def _acting_user(session: AsyncSession, batch: RedriveBatch) -> User | None:
    """The batch's owner as PostgreSQL has them now, if still an active editor or admin."""
    try:
        user_id = uuid.UUID(batch.owner_id)
    except ValueError:
        return None
    user = await get_user(session=session, user_id=user_id)
    if user is None or not user.is_active or user.role == Role.VIEWER:
        return None
    return user


async def _started_by_batch(
    session: AsyncSession, batch: RedriveBatch, run_id: str
) -> RedrivenRun | None:
    """The rerun of ``run_id`` indexed since the batch was signed: an earlier attempt's."""
    record = await rerun_since(session=session, run_id=run_id, since=batch.issued_at)
    if record is None:
        return None
    return RedrivenRun(run_id=record.run_id, rerun_of=run_id, version=record.version)


def _refused(run_id: str, error: ApiError) -> RedriveOutcome:
    return RedriveOutcome(
        refused=RedriveRefused(run_id=run_id, status=error.status_code, detail=error.detail)
    )


def _as_api_error(exc: Exception) -> ApiError | None:
    """What a single redrive would answer for ``exc``: 503 while Temporal is away."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, TemporalUnavailable):
        return ApiError(503, str(exc))
    if isinstance(exc, RPCError) and is_unreachable(exc):
        return ApiError(503, f"Temporal is unavailable ({exc.message}); retry")
    return None


def _failed(run_id: str, exc: Exception) -> ApplicationError:
    return ApplicationError(
        f"redriving run {run_id} failed: {exc}", type=FAILED, non_retryable=True
    )


def _unauthorized(message: str) -> ApplicationError:
    return ApplicationError(message, type=UNAUTHORIZED, non_retryable=True)
