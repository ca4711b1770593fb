"""Per-owner quotas: how fast runs start, how many run at once, how many schedules and hooks.

Every limit is a ``FLOWFORGE_QUOTA_*`` setting (:class:`app.settings.QuotaSettings`)
and counts against the owner of the workflow, whoever calls: a hook or an
admin starting a user's run spends that user's quota. Admins' own objects
are exempt while ``quota_admin_exempt`` is true.

Where each count lives, and why:

- Run starts per minute: a fixed one-minute window per owner in PostgreSQL
  (``run_start_windows``), taken with one atomic upsert, so every API process
  shares it and concurrent starts never overshoot.
- Runs in flight: Temporal visibility (``FlowForgeOwner`` and
  ``ExecutionStatus = 'Running'``). Temporal alone knows when a run ends
  (completion on a worker, a timeout, a terminate from its UI, runs that
  schedules start): a PostgreSQL counter would have to be told of each and
  would drift. Visibility lags by about a second; the per-minute window bounds
  what a burst can start in that lag.
- Schedules: Temporal's schedule list (``FlowForgeOwner``), equally shared.
- Hooks: their PostgreSQL rows.
"""

from __future__ import annotations

import uuid

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.core.state import AppState
from app.db.crud.quotas import count_hooks, take_run_start
from app.db.models.user import Role, User
from app.errors import ApiError, ErrorItem
from app.settings import Settings
from interpreter.contract import search_attributes as sa
from interpreter.contract.client import WORKFLOW_TYPE

IN_FLIGHT_RETRY_AFTER = 30
"""Seconds a caller refused for runs in flight is told to wait: no run's end is foreseeable."""


def quota_error(
    status_code: int, field: str, message: str, *, retry_after: int | None = None
) -> ApiError:
    """The refusal of a quota: the setting named in the detail and in its one error item."""
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return ApiError(
        status_code,
        message,
        errors=[ErrorItem(path="", code="quota", message=f"{field}: {message}")],
        headers=headers,
    )


async def is_exempt(*, session: AsyncSession, settings: Settings, owner_id: uuid.UUID) -> bool:
    """True if ``owner_id`` is an admin and admins are exempt from the quotas."""
    if not settings.quota_admin_exempt:
        return False
    owner = await session.get(User, owner_id)
    return owner is not None and owner.role == Role.ADMIN


def in_flight_query(owner_id: uuid.UUID) -> str:
    """The visibility query of the owner's top-level runs that are running (or paused)."""
    # Only a UUID and constants are interpolated: nothing can inject query syntax.
    return (
        f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' "
        f"AND {sa.OWNER.name} = '{owner_id}' AND {sa.TRIGGER.name} != 'sub_workflow'"
    )


async def check_run_start(
    *, client: Client, session: AsyncSession, state: AppState, owner_id: uuid.UUID
) -> None:
    """Admit one more run start of ``owner_id``, counting it in this minute's window.

    Raises:
        ApiError: 429 with ``Retry-After`` when the owner has
            ``quota_runs_in_flight`` runs running, or started
            ``quota_run_starts_per_minute`` runs this minute.
    """
    settings = state.settings
    if await is_exempt(session=session, settings=settings, owner_id=owner_id):
        return
    limit = settings.quota_runs_in_flight
    running = await client.count_workflows(
        in_flight_query(owner_id), rpc_timeout=state.temporal.rpc_timeout
    )
    if running.count >= limit:
        raise quota_error(
            429,
            "FLOWFORGE_QUOTA_RUNS_IN_FLIGHT",
            f"{running.count} runs of this owner are in flight; the limit is {limit}: "
            "wait for some to end, or cancel some",
            retry_after=IN_FLIGHT_RETRY_AFTER,
        )
    per_minute = settings.quota_run_starts_per_minute
    wait = await take_run_start(session=session, owner_id=owner_id, limit=per_minute)
    if wait is not None:
        raise quota_error(
            429,
            "FLOWFORGE_QUOTA_RUN_STARTS_PER_MINUTE",
            f"this owner started {per_minute} runs this minute, the limit: retry in {wait}s",
            retry_after=wait,
        )


async def check_schedule_count(
    *, client: Client, session: AsyncSession, state: AppState, owner_id: uuid.UUID
) -> None:
    """Admit one more schedule of ``owner_id``.

    Raises:
        ApiError: 409 when the owner has ``quota_schedules`` schedules.
    """
    settings = state.settings
    if await is_exempt(session=session, settings=settings, owner_id=owner_id):
        return
    limit = settings.quota_schedules
    listing = await client.list_schedules(
        f"{sa.OWNER.name} = '{owner_id}'", rpc_timeout=state.temporal.rpc_timeout
    )
    count = 0
    async for _ in listing:
        count += 1
        if count >= limit:
            break
    if count >= limit:
        raise quota_error(
            409,
            "FLOWFORGE_QUOTA_SCHEDULES",
            f"this owner has {count} schedules; the limit is {limit}: delete one first",
        )


async def check_hook_count(
    *, session: AsyncSession, settings: Settings, owner_id: uuid.UUID
) -> None:
    """Admit one more inbound webhook of ``owner_id``.

    Raises:
        ApiError: 409 when the owner has ``quota_hooks`` webhooks.
    """
    if await is_exempt(session=session, settings=settings, owner_id=owner_id):
        return
    limit = settings.quota_hooks
    if await count_hooks(session=session, owner_id=owner_id) >= limit:
        raise quota_error(
            409,
            "FLOWFORGE_QUOTA_HOOKS",
            f"this owner has {limit} webhooks, the limit: delete one first",
        )
