"""Circuit breakers as operators see them: read, configure, reset, forget.

A breaker is ``service`` of one ``owner`` (a user id as runs carry it), or a
shared one (``owner`` None). Workers change the same rows with their own
atomic statements (``worker.circuit_breakers``); these writes are single
statements too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.circuit_breaker import BreakerState, CircuitBreaker, CircuitBreakerConfig

ALL_OWNERS = "*"
"""``list_breakers(visible_to=ALL_OWNERS)``: every owner's and the shared ones (admins)."""


def _one(owner: str | None, service: str) -> Any:
    owned = col(CircuitBreaker.owner).is_(None) if owner is None else CircuitBreaker.owner == owner
    return (col(CircuitBreaker.service) == service) & owned


async def list_breakers(
    *, session: AsyncSession, visible_to: str, limit: int, after: Position | None
) -> Sequence[CircuitBreaker]:
    """Up to ``limit`` breakers, newest first: the owner ``visible_to``'s and the shared ones.

    ``visible_to=ALL_OWNERS`` lists every owner's.
    """
    statement = select(CircuitBreaker)
    if visible_to != ALL_OWNERS:
        statement = statement.where(
            or_(col(CircuitBreaker.owner).is_(None), col(CircuitBreaker.owner) == visible_to)
        )
    result = await session.exec(newest_first(statement, CircuitBreaker, after).limit(limit))
    return result.all()


async def get_breaker(
    *, session: AsyncSession, owner: str | None, service: str
) -> CircuitBreaker | None:
    """The breaker as the database has it now (workers change it too); None if none."""
    result = await session.exec(
        select(CircuitBreaker).where(_one(owner, service)).execution_options(populate_existing=True)
    )
    return result.first()


async def configure_breaker(
    *, session: AsyncSession, owner: str | None, service: str, config: CircuitBreakerConfig
) -> None:
    """Set the breaker's config, creating it (closed) if it has none."""
    values = config.model_dump()
    statement = insert(CircuitBreaker).values(service=service, owner=owner, **values)
    await session.exec(
        statement.on_conflict_do_update(
            constraint="uq_circuit_breakers_service_owner",
            set_={**values, "updated_at": func.now()},
        )
    )
    await session.commit()


async def reset_breaker(*, session: AsyncSession, owner: str | None, service: str) -> bool:
    """Close the breaker and forget its failures; False if there is none."""
    statement = (
        update(CircuitBreaker)
        .where(_one(owner, service))
        .values(
            state=BreakerState.CLOSED,
            failures=0,
            half_open_calls=0,
            opened_at=None,
            updated_at=func.now(),
        )
        .returning(col(CircuitBreaker.id))
    )
    found = (await session.exec(statement)).first()
    await session.commit()
    return found is not None


async def delete_breaker(*, session: AsyncSession, owner: str | None, service: str) -> bool:
    """Forget the breaker, config included; False if there is none."""
    statement = delete(CircuitBreaker).where(_one(owner, service)).returning(col(CircuitBreaker.id))
    found = (await session.exec(statement)).first()
    await session.commit()
    return found is not None
