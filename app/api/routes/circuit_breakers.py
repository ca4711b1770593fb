"""Circuit breakers of the services http and webhook nodes call, each user's own or shared.

``{service}`` is the key as a node names it: ``shared:NAME`` is the shared
breaker of that name, any other key the caller's own (an admin reaches
another user's with ``?owner_id=``). Everyone reads their own and the shared
ones; editors configure, reset and delete their own; only admins manage the
shared ones (and anyone's). Someone else's breaker is a 404, as if it did
not exist.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from app.api.deps import CurrentUser, SessionDep, require_admin, require_editor
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.db.crud import circuit_breakers as crud
from app.db.crud.pages import split_page
from app.db.crud.users import get_user
from app.db.models.circuit_breaker import (
    SERVICE_MAX_LENGTH,
    BreakerState,
    CircuitBreaker,
    CircuitBreakerConfig,
    CircuitBreakerPublic,
)
from app.db.models.common import utcnow
from app.db.models.user import Role, User
from app.errors import ApiError
from app.ownership import may_access
from interpreter.activities.circuit import SHARED_PREFIX, BreakerKey

router = APIRouter(prefix="/circuit-breakers", tags=["circuit-breakers"])

Service = Annotated[
    str,
    Path(
        min_length=1,
        max_length=len(SHARED_PREFIX) + SERVICE_MAX_LENGTH,
        description=(
            "The breaker's key as a node names it: its `circuit_breaker`, else the "
            "`scheme://host:port` it calls; `shared:NAME` is the shared breaker NAME."
        ),
    ),
]

OwnerQuery = Annotated[
    uuid.UUID | None,
    Query(description="Admins only: the user whose breaker to act on (default: yours)."),
]


def public(row: CircuitBreaker, now: datetime | None = None) -> CircuitBreakerPublic:
    """How the API shows a breaker row, its settings grouped under ``config``.

    An open breaker whose reset timeout has passed reads ``half_open``: the
    next call is let through as a probe.
    """
    until = None
    if row.state == BreakerState.OPEN and row.opened_at is not None:
        until = row.opened_at + timedelta(seconds=row.reset_timeout)
    due = until is not None and (now or utcnow()) >= until
    key = BreakerKey(row.service, row.owner)
    return CircuitBreakerPublic(
        service=key.name,
        owner=row.owner,
        shared=key.shared,
        state=BreakerState.HALF_OPEN if due else row.state,
        failures=row.failures,
        opened_at=row.opened_at,
        open_until=None if due else until,
        half_open_calls=row.half_open_calls,
        config=CircuitBreakerConfig(
            failure_threshold=row.failure_threshold,
            reset_timeout=row.reset_timeout,
            half_open_max_calls=row.half_open_max_calls,
        ),
        updated_at=row.updated_at,
    )


def _not_found(key: BreakerKey) -> ApiError:
    if key.shared:
        return ApiError(
            404,
            f"no shared circuit breaker {key.name!r}: an admin defines it with "
            f"PUT /api/v1/circuit-breakers/{key.name}/config (nodes naming it fail until then)",
        )
    return ApiError(
        404,
        f"no circuit breaker for {key.name!r}: it has not failed since it was last deleted "
        "and was never configured (it is closed, with the default config)",
    )


async def _key(
    session: SessionDep, user: User, service: str, owner_id: uuid.UUID | None, *, write: bool
) -> BreakerKey:
    """The breaker a request acts on, once the caller may (403 by role, 404 for another's)."""
    key = BreakerKey.parse(service, str(user.id))
    if key.shared:
        if write:
            require_admin(user)
        return key
    if write:
        require_editor(user)
    if owner_id is None or owner_id == user.id:
        return key
    if not may_access(user, owner_id) or await get_user(session=session, user_id=owner_id) is None:
        raise ApiError(404, f"user {owner_id} not found")
    return BreakerKey(key.service, str(owner_id))


async def _read(session: SessionDep, key: BreakerKey) -> CircuitBreakerPublic:
    row = await crud.get_breaker(session=session, owner=key.owner, service=key.service)
    if row is None:
        raise _not_found(key)
    return public(row)


@router.get("")
async def list_all(
    user: CurrentUser, session: SessionDep, limit: PageSize, cursor: Cursor = None
) -> Page[CircuitBreakerPublic]:
    """Your breakers and the shared ones (an admin: every user's, with owners), newest first."""
    visible_to = crud.ALL_OWNERS if user.role == Role.ADMIN else str(user.id)
    rows = await crud.list_breakers(
        session=session, visible_to=visible_to, limit=limit + 1, after=decode_position(cursor)
    )
    page, position = split_page(rows, limit)
    now = utcnow()
    return Page(items=[public(row, now) for row in page], next_cursor=encode_position(position))


@router.get("/{service:path}")
async def read(
    user: CurrentUser, session: SessionDep, service: Service, owner_id: OwnerQuery = None
) -> CircuitBreakerPublic:
    """One breaker: state, consecutive failures, when it opened, until when, config."""
    return await _read(session, await _key(session, user, service, owner_id, write=False))


@router.put("/{service:path}/config")
async def configure(
    user: CurrentUser,
    session: SessionDep,
    service: Service,
    body: CircuitBreakerConfig,
    owner_id: OwnerQuery = None,
) -> CircuitBreakerPublic:
    """Set a breaker's config (omitted fields take their defaults); its state is kept.

    Configuring ``shared:NAME`` (admins) defines the shared breaker nodes may name.
    """
    key = await _key(session, user, service, owner_id, write=True)
    await crud.configure_breaker(session=session, owner=key.owner, service=key.service, config=body)
    return await _read(session, key)


@router.post("/{service:path}/reset")
async def reset(
    user: CurrentUser, session: SessionDep, service: Service, owner_id: OwnerQuery = None
) -> CircuitBreakerPublic:
    """Close the breaker now and forget its failures; its config is kept."""
    key = await _key(session, user, service, owner_id, write=True)
    if not await crud.reset_breaker(session=session, owner=key.owner, service=key.service):
        raise _not_found(key)
    return await _read(session, key)


@router.delete("/{service:path}", status_code=status.HTTP_204_NO_CONTENT)
async def remove(
    user: CurrentUser, session: SessionDep, service: Service, owner_id: OwnerQuery = None
) -> Response:
    """Forget a breaker, state and config.

    An owner's is closed with the default config again; a shared one is gone,
    and nodes naming it fail until an admin defines it again.
    """
    key = await _key(session, user, service, owner_id, write=True)
    if not await crud.delete_breaker(session=session, owner=key.owner, service=key.service):
        raise _not_found(key)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
