"""Circuit breakers as operators see them: read, configure, reset, forget.

Workers change the same rows with their own atomic statements
(``worker.circuit_breakers``); these writes are single statements too.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, update
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.pages import Position, newest_first
from app.db.models.circuit_breaker import BreakerState, CircuitBreaker, CircuitBreakerConfig


async def list_breakers(
    *, session: AsyncSession, limit: int, after: Position | None
) -> Sequence[CircuitBreaker]:
    """Up to ``limit`` breakers, newest first."""
    result = await session.exec(
        newest_first(select(CircuitBreaker), CircuitBreaker, after).limit(limit)
    )
    return result.all()


async def get_breaker(*, session: AsyncSession, service: str) -> CircuitBreaker | None:
    """``service``'s breaker as the database has it now (workers change it too); None if none."""
    result = await session.exec(
        select(CircuitBreaker)
        .where(CircuitBreaker.service == service)
        .execution_options(populate_existing=True)
    )
    return result.first()


async def configure_breaker(
    *, session: AsyncSession, service: str, config: CircuitBreakerConfig
) -> None:
    """Set ``service``'s config, creating its breaker (closed) if it has none."""
    values = config.model_dump()
    statement = insert(CircuitBreaker).values(service=service, **values)
    await session.exec(
        statement.on_conflict_do_update(
            index_elements=["service"], set_={**values, "updated_at": func.now()}
        )
    )
    await session.commit()


async def reset_breaker(*, session: AsyncSession, service: str) -> bool:
    """Close ``service``'s breaker and forget its failures; False if it has none."""
    statement = (
        update(CircuitBreaker)
        .where(col(CircuitBreaker.service) == service)
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


async def delete_breaker(*, session: AsyncSession, service: str) -> bool:
    """Forget ``service``'s breaker, config included; False if it has none."""
    statement = (
        delete(CircuitBreaker)
        .where(col(CircuitBreaker.service) == service)
        .returning(col(CircuitBreaker.id))
    )
    found = (await session.exec(statement)).first()
    await session.commit()
    return found is not None
