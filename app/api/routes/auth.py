"""Logging in (OAuth2 password flow) and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel

from app.api.deps import CurrentUser, SessionDep, StateDep
from app.api.login import TOO_MANY_ATTEMPTS, throttled_login
from app.db.models.user import UserPublic
from app.errors import ApiError

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    """An access token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"


@router.post("/token", responses={429: TOO_MANY_ATTEMPTS})
async def login(
    request: Request,
    state: StateDep,
    session: SessionDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    password: Annotated[str, Form(min_length=1, max_length=128)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> Token:
    """Exchange a username and password (OAuth2 password form) for an access token.

    Failed logins are throttled per username and per client address: past the
    free attempts, 429 with ``Retry-After`` until a delay that grows with each failure.
    """
    user = await throttled_login(request, state, session, username, password)
    if user is None:
        raise ApiError(
            401, "incorrect username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return Token(access_token=state.signer.issue(user.id))


@router.get("/me")
async def read_me(user: CurrentUser) -> UserPublic:
    """The user behind the bearer credential (access token or API key)."""
    return UserPublic.model_validate(user)
