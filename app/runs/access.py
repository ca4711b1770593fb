"""Finding a run the caller may see (runs belong to their workflow's owner)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from temporalio.client import Client, WorkflowExecution, WorkflowExecutionDescription

from app.core.state import AppState
from app.db.models.user import User
from app.errors import ApiError
from app.ownership import may_access
from app.runs.reading import describe, owner_of
from app.runs.schemas import RunTrigger
from app.settings import Settings
from interpreter.contract import search_attributes as sa


def run_not_found(run_id: str) -> ApiError:
    """The answer for a run that does not exist or is not the caller's."""
    return ApiError(404, f"run {run_id} not found")


async def visible_run(
    client: Client, state: AppState, run_id: str, user: User
) -> WorkflowExecutionDescription:
    """Temporal's description of the run.

    Raises:
        ApiError: 404 if there is no such run or it belongs to someone else.
    """
    description = await describe(client, run_id, state.temporal.rpc_timeout)
    if description is None or not may_access(user, await _owner(client, state, description)):
        raise run_not_found(run_id)
    if is_expired_test(description, state.settings):
        raise run_not_found(run_id)
    return description


def is_expired_test(execution: WorkflowExecution, settings: Settings) -> bool:
    """Whether ``execution`` is a test run past ``test_run_retention_seconds``."""
    if execution.typed_search_attributes.get(sa.TRIGGER) != RunTrigger.TEST.value:
        return False
    return execution.start_time < test_cutoff(settings)


def test_cutoff(settings: Settings) -> datetime:
    """Test runs that started before this are past their retention."""
    return datetime.now(UTC) - timedelta(seconds=settings.test_run_retention_seconds)


async def _owner(
    client: Client, state: AppState, description: WorkflowExecutionDescription
) -> str | None:
    """The run's owner; a for_each batch's is its parent's (the batch carries none).

    A batch starts with only its trigger as search attribute, so that it never
    counts as one of its owner's runs (lists, quotas); whoever may see the run
    it belongs to may see it.
    """
    owner = owner_of(description)
    if owner is not None or description.typed_search_attributes.get(sa.TRIGGER) != sa.BATCH_TRIGGER:
        return owner
    if not description.parent_id:
        return None
    parent = await describe(client, description.parent_id, state.temporal.rpc_timeout)
    return owner_of(parent) if parent is not None else None
