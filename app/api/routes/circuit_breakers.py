"""Circuit breakers of the services http and webhook nodes call (shared by all workers).

Anyone signed in may read them; configuring, resetting and deleting is for admins.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from app.api.deps import AdminUser, CurrentUser, SessionDep
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud import circuit_breakers as crud
from app.db.crud.pages import split_page
from app.db.models.circuit_breaker import (
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakerPublic,
)
from app.errors import ApiError

router = APIRouter(prefix="/circuit-breakers", tags=["circuit-breakers"])

Service = Annotated[
    str,
    Path(
        min_length=1,
        max_length=255,
        description="The breaker's key: a node's `circuit_breaker`, else the host it calls.",
    ),
]


def public(row: CircuitBreaker) -> CircuitBreakerPublic:
    """How the API shows a breaker row, its settings grouped under ``config``."""
    return CircuitBreakerPublic(
        service=row.service,
        state=row.state,
        failures=row.failures,
        opened_at=row.opened_at,
        half_open_calls=row.half_open_calls,
        config=CircuitBreakerConfig(
            failure_threshold=row.failure_threshold,
            reset_timeout=row.reset_timeout,
            half_open_max_calls=row.half_open_max_calls,
        ),
        updated_at=row.updated_at,
    )


def _not_found(service: str) -> ApiError:
    return ApiError(
        404,
        f"no circuit breaker for {service!r}: it has not failed since it was last deleted "
        "and was never configured (it is closed, with the default config)",
    )


async def _read(session: SessionDep, service: str) -> CircuitBreakerPublic:
    row = await crud.get_breaker(session=session, service=service)
    if row is None:
        raise _not_found(service)
    return public(row)


@router.get("")
async def list_all(
    _user: CurrentUser, session: SessionDep, limit: PageSize, cursor: Cursor = None
) -> Page[CircuitBreakerPublic]:
    """Every breaker with state or config, newest first."""
    rows = await crud.list_breakers(session=session, limit=limit + 1, after=decode_position(cursor))
    page, position = split_page(rows, limit)
    return Page(items=[public(row) for row in page], next_cursor=encode_position(position))


@router.get("/{service}")
async def read(_user: CurrentUser, session: SessionDep, service: Service) -> CircuitBreakerPublic:
    """One breaker: state, consecutive failures, when it opened, config."""
    return await _read(session, service)


@router.put("/{service}/config")
async def configure(
    _admin: AdminUser, session: SessionDep, service: Service, body: CircuitBreakerConfig
) -> CircuitBreakerPublic:
    """Set a breaker's config (omitted fields take their defaults); its state is kept."""
    await crud.configure_breaker(session=session, service=service, config=body)
    return await _read(session, service)


@router.post("/{service}/reset")
async def reset(_admin: AdminUser, session: SessionDep, service: Service) -> CircuitBreakerPublic:
    """Close the breaker now and forget its failures; its config is kept."""
    if not await crud.reset_breaker(session=session, service=service):
        raise _not_found(service)
    return await _read(session, service)


@router.delete("/{service}", status_code=status.HTTP_204_NO_CONTENT)
async def remove(_admin: AdminUser, session: SessionDep, service: Service) -> Response:
    """Forget a breaker, state and config: it is closed with the default config again."""
    if not await crud.delete_breaker(session=session, service=service):
        raise _not_found(service)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
