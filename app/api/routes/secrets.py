"""Secrets a workflow's http and webhook nodes read as ``{{ secrets.NAME }}``.

Each user has their own; an admin reaches another user's with ``?owner_id=``.
Values are write-only: they are sealed on arrival and only a worker opens them.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.deps import CurrentUser, SessionDep, StateDep, require_editor
from app.api.pagination import Cursor, Page, PageSize, decode_position, encode_position
from app.core.secrets_key import secret_box
from app.db.crud import secrets as crud
from app.db.crud.pages import split_page
from app.db.crud.users import get_user
from app.db.models.secret import SecretCreate, SecretPublic
from app.db.models.user import User
from app.errors import ApiError
from app.ownership import may_access

router = APIRouter(prefix="/secrets", tags=["secrets"])

OwnerQuery = Annotated[
    uuid.UUID | None,
    Query(description="Admins only: the user whose secrets to act on (default: yours)."),
]


async def _owner(session: SessionDep, user: User, owner_id: uuid.UUID | None) -> uuid.UUID:
    """Whose secrets the request acts on; 404 for someone else's unless admin."""
    if owner_id is None or owner_id == user.id:
        return user.id
    if not may_access(user, owner_id) or await get_user(session=session, user_id=owner_id) is None:
        raise ApiError(404, f"user {owner_id} not found")
    return owner_id


async def readable_owner(
    session: SessionDep, user: CurrentUser, owner_id: OwnerQuery = None
) -> uuid.UUID:
    """Whose secrets a read acts on: the caller's, or ``owner_id``'s for an admin (else 404)."""
    return await _owner(session, user, owner_id)


async def writable_owner(
    session: SessionDep,
    user: Annotated[User, Depends(require_editor)],
    owner_id: OwnerQuery = None,
) -> uuid.UUID:
    """Whose secrets a change acts on: 403 for a viewer, then as :func:`readable_owner`."""
    return await _owner(session, user, owner_id)


ReadableOwner = Annotated[uuid.UUID, Depends(readable_owner)]
WritableOwner = Annotated[uuid.UUID, Depends(writable_owner)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={200: {"model": SecretPublic, "description": "An existing secret's value replaced"}},
)
async def store(
    owner: WritableOwner,
    state: StateDep,
    session: SessionDep,
    body: SecretCreate,
    response: Response,
) -> SecretPublic:
    """Store a secret: 201 if the name is new, 200 if it replaced that secret's value.

    The value is never shown again, by any route.
    """
    sealed = secret_box(state.settings).seal(str(owner), body.name, body.value)
    public, created = await crud.put_secret(
        session=session, owner_id=owner, name=body.name, ciphertext=sealed
    )
    response.status_code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return public


@router.get("")
async def list_names(
    owner: ReadableOwner, session: SessionDep, limit: PageSize, cursor: Cursor = None
) -> Page[SecretPublic]:
    """The secrets' names (never their values), newest first."""
    rows = await crud.list_secrets(
        session=session, owner_id=owner, limit=limit + 1, after=decode_position(cursor)
    )
    page, position = split_page(rows, limit)
    return Page(
        items=[SecretPublic.model_validate(row) for row in page],
        next_cursor=encode_position(position),
    )


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def remove(owner: WritableOwner, session: SessionDep, name: str) -> Response:
    """Delete a secret; runs that read it fail from their next attempt on."""
    if not await crud.delete_secret(session=session, owner_id=owner, name=name):
        raise ApiError(404, f"secret {name!r} not found")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
