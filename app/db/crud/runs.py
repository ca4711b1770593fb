"""The run index: one row per run the API started."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models.run import RunRecord


async def record_run(*, session: AsyncSession, record: RunRecord) -> None:
    """Insert ``record`` unless its run is already indexed (a repeated idempotent start)."""
    values = record.model_dump()
    await session.exec(insert(RunRecord).values(**values).on_conflict_do_nothing())
    await session.commit()


async def get_run_record(*, session: AsyncSession, run_id: str) -> RunRecord | None:
    """The index row of run ``run_id``; None if the API has not indexed it."""
    return await session.get(RunRecord, run_id)
