"""Logging in (OAuth2 password flow) and out, changing one's password, and who am I."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from app.api.deps import CurrentUser, SessionDep, StateDep
from app.api.login import TOO_MANY_ATTEMPTS, throttled_login, throttled_registration
from app.db.crud.tokens import revoke_token
from app.db.crud.users import change_password, create_user
from app.db.errors import AlreadyExists
from app.db.models.user import PasswordChange, Role, UserCreate, UserPublic, UserRegister
from app.errors import ApiError, ErrorItem

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    """An access token: send it as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"


class Credentials(BaseModel):
    """A username and password, as an OAuth2 password form or as JSON."""

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)
    grant_type: str | None = Field(default=None, pattern="^password$")


def _credentials_body() -> dict[str, Any]:
    schema = Credentials.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {"schema": schema},
                "application/json": {"schema": schema},
            },
        }
    }


async def credentials(request: Request) -> Credentials:
    """The credentials in the body: a form (OAuth2 clients, Swagger UI) or a JSON object."""
    if request.headers.get("content-type", "").split(";")[0].strip() == "application/json":
        try:
            raw: Any = await request.json()
        except ValueError:
            raise RequestValidationError(
                [{"type": "json_invalid", "loc": ("body",), "msg": "the body is not JSON"}]
            ) from None
    else:
        raw = dict((await request.form()).items())
    try:
        return Credentials.model_validate(raw)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)]
        ) from None


@router.post("/token", responses={429: TOO_MANY_ATTEMPTS}, openapi_extra=_credentials_body())
async def login(
    request: Request,
    state: StateDep,
    session: SessionDep,
    body: Annotated[Credentials, Depends(credentials)],
) -> Token:
    """Exchange a username and password for an access token.

    The body is an OAuth2 password form or the same fields as JSON. Failed
    logins are throttled per username and per client address: past the free
    attempts, 429 with ``Retry-After`` until a delay that grows with each failure.
    """
    user = await throttled_login(request, state, session, body.username, body.password)
    if user is None:
        raise ApiError(
            401, "incorrect username or password", headers={"WWW-Authenticate": "Bearer"}
        )
    return Token(access_token=state.signer.issue(user.id))


@router.post(
    "/register",
    status_code=status.HTTP_201_CREATED,
    responses={403: {"description": "Self-registration is turned off"}, 429: TOO_MANY_ATTEMPTS},
)
async def register(
    request: Request, state: StateDep, session: SessionDep, body: UserRegister
) -> UserPublic:
    """Create an account for oneself, when the server allows it (off by default).

    The account gets the configured role (``FLOWFORGE_REGISTRATION_ROLE``); log
    in with ``POST /auth/token`` afterwards. Registrations are throttled per
    client address.
    """
    settings = state.settings
    if not settings.registration_enabled:
        raise ApiError(403, "self-registration is turned off here: ask an admin for an account")
    await throttled_registration(request, state, session)
    try:
        user = await create_user(
            session=session,
            user_create=UserCreate(
                username=body.username,
                password=body.password,
                role=Role(settings.registration_role),
            ),
        )
    except AlreadyExists as exc:
        raise ApiError(409, str(exc)) from None
    return UserPublic.model_validate(user)


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
