"""Dependencies of the routes, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.api.scopes import scope_needed
from app.core.state import AppState
from app.db.crud.api_keys import user_for_api_key
from app.db.crud.tokens import token_is_revoked
from app.db.crud.users import get_user
from app.db.models.api_key import Scope
from app.db.models.user import Role, User
from app.errors import ApiError
from app.runs.ids import run_id_from_segment
from app.security import API_KEY_PREFIX

TOKEN_URL = "/api/v1/auth/token"


def _run_id(
    run_id: Annotated[
        str,
        Path(
            min_length=1,
            max_length=200,
            description=(
                "The run id (run-...). A child run's `/` is written `~`: "
                "run-abc/call as run-abc~call."
            ),
        ),
    ],
) -> str:
    return run_id_from_segment(run_id)


RunId = Annotated[str, Depends(_run_id)]
"""The ``{run_id}`` path segment, with ``~`` read as ``/`` so child runs are addressable."""


def idempotency_key(description: str, *, alias: str | None = None) -> Any:
    """An ``Idempotency-Key`` header (or another name via ``alias``): 1-200 visible ASCII.

    Every route that starts runs takes its key through this one declaration; keys
    are hashed into run ids, so a prefix added per trigger costs no length.
    """
    return Header(
        alias=alias,
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description=description,
    )


# auto_error=False: a missing token gets our own 401 body, not FastAPI's.
_bearer = OAuth2PasswordBearer(
    tokenUrl=TOKEN_URL,
    auto_error=False,
    description="An access token from /auth/token, or an API key from /api-keys.",
)


def get_state(request: Request) -> AppState:
    """The process's :class:`AppState`, built at startup."""
    return cast(AppState, request.app.state.flowforge)


StateDep = Annotated[AppState, Depends(get_state)]


async def get_session(state: StateDep) -> AsyncIterator[AsyncSession]:
    """A database session for the request, closed when the request is done."""
    async with state.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_temporal(state: StateDep) -> Client:
    """The API's one Temporal client, connected on first use (503 while Temporal is away)."""
    return await state.temporal.client()


TemporalDep = Annotated[Client, Depends(get_temporal)]


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, detail, headers={"WWW-Authenticate": "Bearer"})


async def get_current_user(
    request: Request,
    state: StateDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> User:
    """The user behind the request's bearer credential (access token or API key).

    An API key must have the scope the route needs (see ``app.api.scopes``).
    """
    if not token:
        raise _unauthorized("not authenticated: send Authorization: Bearer <token or API key>")
    route = getattr(request.scope.get("route"), "path", request.url.path)
    return await user_for_credential(
        state, session, token, scope=scope_needed(request.method, route)
    )


async def user_for_credential(
    state: AppState, session: AsyncSession, token: str, *, scope: Scope = Scope.MANAGE
) -> User:
    """The active user an access token or API key belongs to.

    Args:
        state: The process's state (the token signer).
        session: The request's database session.
        token: The bearer credential.
        scope: The scope an API key needs; ``manage`` by default, so a caller
            that names none (the codec) admits only keys that may do everything.

    Raises:
        ApiError: 401 for a token that is invalid, expired, revoked, or a disabled
            user's, or an unknown or expired API key; 403 for a key without ``scope``.
    """
    if token.startswith(API_KEY_PREFIX):
        found = await user_for_api_key(session=session, key=token)
        user = found[0] if found else None
        if found and found[0].is_active and not found[1].allows(scope):
            raise ApiError(
                403,
                f"this API key lacks the {scope.value!r} scope: create a key with it "
                '(POST /api-keys with "scopes") or use an access token',
            )
    else:
        claims = state.signer.claims(token)
        user = await get_user(session=session, user_id=claims.user_id) if claims else None
        if (
            user is not None
            and claims is not None
            and await token_is_revoked(session=session, user=user, claims=claims)
        ):
            user = None
    if user is None or not user.is_active:
        raise _unauthorized("invalid or expired credentials: log in again or use a valid API key")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_editor(user: CurrentUser) -> User:
    """The signed-in user, if an editor or admin (403 for a viewer)."""
    if user.role == Role.VIEWER:
        raise ApiError(403, "viewers may only read: this needs the editor or admin role")
    return user


def require_admin(user: CurrentUser) -> User:
    """The signed-in user, if an admin (403 otherwise)."""
    if user.role != Role.ADMIN:
        raise ApiError(403, "this needs the admin role")
    return user


EditorUser = Annotated[User, Depends(require_editor)]
AdminUser = Annotated[User, Depends(require_admin)]
