"""Secrets: store (insert or replace), list names, delete. Values arrive sealed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import delete, func, literal_column
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.secret import Secret, SecretPublic


async def put_secret(
    *, session: AsyncSession, owner_id: uuid.UUID, name: str, ciphertext: bytes
) -> tuple[SecretPublic, bool]:
    """Store ``ciphertext`` as ``owner_id``'s secret ``name``; True if it is new.

    One upsert statement, so two requests storing the same new name at once
    both succeed (the later value wins) instead of one hitting the unique key.
    """
    values = insert(Secret).values(
        id=uuid.uuid4(),
        owner_id=owner_id,
        name=name,
        ciphertext=ciphertext,
        created_at=func.now(),
        updated_at=func.now(),
    )
    upsert = values.on_conflict_do_update(
        constraint="uq_secrets_owner_name",
        set_={"ciphertext": values.excluded.ciphertext, "updated_at": func.now()},
    )
    result = await session.exec(
        upsert.returning(
            col(Secret.name),
            col(Secret.created_at),
            col(Secret.updated_at),
            # xmax is 0 on a row version this statement inserted (not updated).
            literal_column("xmax = 0").label("created"),
        )
    )
    row = result.one()
    await session.commit()
    public = SecretPublic(name=row.name, created_at=row.created_at, updated_at=row.updated_at)
    return public, bool(row.created)


async def list_secrets(
    *, session: AsyncSession, owner_id: uuid.UUID, limit: int, after: Position | None
) -> Sequence[Secret]:
    """Up to ``limit`` of the owner's secrets, newest first."""
    statement = newest_first(select(Secret).where(Secret.owner_id == owner_id), Secret, after)
    result = await session.exec(statement.limit(limit))
    return result.all()


async def delete_secret(*, session: AsyncSession, owner_id: uuid.UUID, name: str) -> bool:
    """Delete the owner's secret ``name``; False if there was none."""
    statement = (
        delete(Secret)
        .where(col(Secret.owner_id) == owner_id, col(Secret.name) == name)
        .returning(col(Secret.id))
    )
    deleted = (await session.exec(statement)).first()
    await session.commit()
    return deleted is not None
