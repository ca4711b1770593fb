"""Finding a run the caller may see (runs belong to their workflow's owner)."""

from __future__ import annotations

from temporalio.client import Client, WorkflowExecutionDescription

from app.core.state import AppState
from app.db.models.user import User
from app.errors import ApiError
from app.ownership import may_access
from app.runs.reading import describe, owner_of


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
    if description is None or not may_access(user, owner_of(description)):
        raise run_not_found(run_id)
    return description
