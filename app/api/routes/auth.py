"""Logging in (OAuth2 password flow) and out, changing one's password, and who am I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response, status
from pydantic import BaseModel

from app.api.deps import CurrentUser, SessionDep, StateDep
from app.api.login import TOO_MANY_ATTEMPTS, throttled_login
from app.db.crud.tokens import revoke_token
from app.db.crud.users import change_password
from app.db.models.user import PasswordChange, UserPublic
from app.errors import ApiError, ErrorItem

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


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(
    request: Request, state: StateDep, session: SessionDep, _user: CurrentUser
) -> Response:
    """Revoke the access token of this request; the user's other tokens keep working.

    An API key is not logged out: delete it with ``DELETE /api-keys/{id}``.
    """
    _, _, token = request.headers.get("authorization", "").partition(" ")
    claims = state.signer.claims(token.strip())
    if claims is None:
        raise ApiError(
            400, "logout revokes access tokens: delete an API key with DELETE /api-keys/{id}"
        )
    await revoke_token(session=session, token_id=claims.token_id, expires_at=claims.expires_at)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/password", responses={429: TOO_MANY_ATTEMPTS})
async def new_password(
    request: Request, state: StateDep, session: SessionDep, user: CurrentUser, body: PasswordChange
) -> Token:
    """Change the caller's password; every access token issued before is revoked.

    Answers with a fresh token, so this client stays signed in. The current
    password is checked like a login (and throttled like one).
    """
    checked = await throttled_login(request, state, session, user.username, body.current_password)
    if checked is None or checked.id != user.id:
        raise ApiError(
            422,
            "the current password is wrong",
            errors=[
                ErrorItem(
                    path="/body/current_password",
                    code="wrong_password",
                    message="not the current password",
                )
            ],
        )
    await change_password(session=session, user=user, password=body.password)
    return Token(access_token=state.signer.issue(user.id))
