"""The run index: one row per run the API started."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.run import RunDismissal, RunRecord


async def record_run(*, session: AsyncSession, record: RunRecord) -> None:
    """Insert ``record`` unless its run is already indexed (a repeated idempotent start)."""
    values = record.model_dump()
    await session.exec(insert(RunRecord).values(**values).on_conflict_do_nothing())
    await session.commit()


async def get_run_record(*, session: AsyncSession, run_id: str) -> RunRecord | None:
    """The index row of run ``run_id``; None if the API has not indexed it."""
    return await session.get(RunRecord, run_id)


async def list_reruns(*, session: AsyncSession, run_id: str, limit: int = 100) -> list[str]:
    """Ids of the runs that rerun ``run_id``, oldest first (at most ``limit``)."""
    statement = (
        select(RunRecord.run_id)
        .where(RunRecord.rerun_of == run_id)
        .order_by(col(RunRecord.created_at), col(RunRecord.run_id))
        .limit(limit)
    )
    return list((await session.exec(statement)).all())


async def rerun_since(*, session: AsyncSession, run_id: str, since: datetime) -> RunRecord | None:
    """The first run indexed at or after ``since`` that reruns ``run_id``, if any."""
    statement = (
        select(RunRecord)
        .where(RunRecord.rerun_of == run_id, col(RunRecord.created_at) >= since)
        .order_by(col(RunRecord.created_at))
        .limit(1)
    )
    return (await session.exec(statement)).first()


async def rerun_runs(*, session: AsyncSession, run_ids: Sequence[str]) -> set[str]:
    """Those of ``run_ids`` that some run reruns (they were redriven)."""
    if not run_ids:
        return set()
    statement = select(RunRecord.rerun_of).where(col(RunRecord.rerun_of).in_(list(run_ids)))
    return {run_id for run_id in (await session.exec(statement)).all() if run_id is not None}


async def dismissed_runs(*, session: AsyncSession, run_ids: Sequence[str]) -> set[str]:
    """Those of ``run_ids`` an operator dismissed from the failures inbox."""
    if not run_ids:
        return set()
    statement = select(RunDismissal.run_id).where(col(RunDismissal.run_id).in_(list(run_ids)))
    return set((await session.exec(statement)).all())


async def dismiss_run(*, session: AsyncSession, run_id: str, user_id: uuid.UUID | None) -> None:
    """Dismiss failed run ``run_id`` from the failures inbox (again: a no-op)."""
    values = RunDismissal(run_id=run_id, dismissed_by=user_id).model_dump()
    await session.exec(insert(RunDismissal).values(**values).on_conflict_do_nothing())
    await session.commit()
