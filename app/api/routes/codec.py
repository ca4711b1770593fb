"""Temporal's remote codec protocol, so an admin reads sealed history in the Web UI or CLI.

Temporal stores FlowForge's payloads sealed (``interpreter.contract.codec``).
The Web UI and ``temporal workflow show --codec-endpoint`` post them here and
show what comes back: ``POST /codec/decode`` and ``POST /codec/encode`` take
and answer ``{"payloads": [{"metadata": {name: base64}, "data": base64}]}``
(proto3 JSON). Only an admin may use either: decoding reveals every tenant's
data, and encoding would let a caller forge payloads a worker trusts. The UI
calls from its own origin (CORS, see :class:`CodecCorsMiddleware`) with an
``X-Namespace`` header and, with ``TEMPORAL_CODEC_PASS_ACCESS_TOKEN``, the
user's access token as the bearer credential.

The UI cannot send FlowForge's own credentials, so an admin signs in to the
codec once in the browser (``GET /codec/session``: a form, no script): that
sets a cookie scoped to the codec path, which the UI sends when its codec
setting "Include cross-origin credentials" is on. The cookie is HttpOnly and
SameSite=Lax, and a request it authenticates must be JSON, so another site's
page can neither send it nor read what comes back (a JSON post is preflighted,
and CORS admits only the UI's origins).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from app.api.deps import SessionDep, StateDep, user_for_credential
from app.api.login import throttled_login
from app.db.models.user import Role, User
from app.errors import ApiError, ErrorItem, pointer
from interpreter.contract.codec import PayloadUnreadable

PREFIX = "/codec"
"""Under the API prefix: the endpoint to give the UI and CLI is ``<api>/api/v1/codec``."""

router = APIRouter(prefix=PREFIX, tags=["codec"])

COOKIE = "flowforge_codec"
"""The codec session cookie (an access token), sent only to the codec's own path."""

_MAX_PAYLOADS = 1000
_MAX_METADATA = 64


class WirePayload(BaseModel):
    """One payload as Temporal's proto3 JSON writes it: every bytes value in base64."""

    metadata: dict[Annotated[str, Field(max_length=256)], str] = Field(
        default_factory=dict, max_length=_MAX_METADATA
    )
    data: str = ""


class Payloads(BaseModel):
    """The body of both codec endpoints, asked and answered."""

    payloads: list[WirePayload] = Field(max_length=_MAX_PAYLOADS)


def _bytes(text: str, where: str) -> bytes:
    # proto3 JSON readers take standard and URL-safe base64, padded or not.
    normal = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(normal + "=" * (-len(normal) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(
            422,
            "payloads must carry base64 (proto3 JSON), as the Temporal UI and CLI send them",
            errors=[ErrorItem(path=where, code="base64", message="not base64")],
        ) from None


def _from_wire(body: Payloads) -> list[Payload]:
    found = []
    for index, item in enumerate(body.payloads):
        metadata = {
            name: _bytes(value, pointer(("payloads", index, "metadata", name)))
            for name, value in item.metadata.items()
        }
        data = _bytes(item.data, pointer(("payloads", index, "data")))
        found.append(Payload(metadata=metadata, data=data))
    return found


def _to_wire(payloads: Sequence[Payload]) -> Payloads:
    def text(value: bytes) -> str:
        return base64.b64encode(value).decode()

    return Payloads(
        payloads=[
            WirePayload(
                metadata={name: text(value) for name, value in payload.metadata.items()},
                data=text(payload.data),
            )
            for payload in payloads
        ]
    )


async def _through(
    step: Callable[[Sequence[Payload]], Awaitable[list[Payload]]] | None, body: Payloads
) -> Payloads:
    payloads = _from_wire(body)
    if step is None:  # no codec at all: payloads are stored as they are
        return _to_wire(payloads)
    try:
        return _to_wire(await step(payloads))
    except PayloadUnreadable as error:
        raise ApiError(422, str(error)) from None


_NAMESPACE = Header(
    alias="X-Namespace",
    max_length=1000,
    description="The Temporal namespace the UI reads (one key serves every namespace).",
)


async def codec_admin(request: Request, state: StateDep, session: SessionDep) -> User:
    """The admin behind the bearer credential, or behind the codec session cookie.

    Raises:
        ApiError: 401 without either (or with a bad one), 403 for a user who is
            not an admin, 415 for a cookie-authenticated request that is not JSON.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        user = await user_for_credential(state, session, token)
    elif COOKIE in request.cookies:
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            # Only a JSON post is preflighted: a plain form post from another page
            # would carry the cookie without CORS ever being asked.
            raise ApiError(415, "codec requests signed in by cookie must be application/json")
        user = await user_for_credential(state, session, request.cookies[COOKIE])
    else:
        raise ApiError(
            401,
            "not authenticated: send Authorization: Bearer <admin token or API key>, or sign "
            f"in at {request.url_for('codec_session_form')} and turn on the UI's "
            '"Include cross-origin credentials"',
            headers={"WWW-Authenticate": "Bearer"},
        )
    if user.role != Role.ADMIN:
        raise ApiError(403, "only an admin may use the codec: it reveals every tenant's data")
    return user


CodecAdmin = Annotated[User, Depends(codec_admin)]


_FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>FlowForge codec sign-in</title></head>
<body>
<h1>Sign in to read sealed payloads</h1>
<p>{message}</p>
<form method="post">
<label>Admin username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required>
</label>
<button type="submit">Sign in</button>
</form>
<p>Then, in the Temporal Web UI's codec settings, turn on
"Include cross-origin credentials".</p>
</body></html>
"""


@router.get("/session", response_class=HTMLResponse, name="codec_session_form")
async def session_form() -> HTMLResponse:
    """A sign-in form: an admin's browser gets the cookie the Web UI decodes with."""
    return HTMLResponse(_FORM.format(message="Only admins may read payloads."))


@router.post("/session", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    state: StateDep,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
) -> HTMLResponse:
    """Check an admin's password and set the codec session cookie (401/403 otherwise)."""
    user = await throttled_login(request, state, session, username, password)
    if user is None or not user.is_active:
        page = _FORM.format(message="Wrong username or password.")
        return HTMLResponse(page, status_code=401)
    if user.role != Role.ADMIN:
        page = _FORM.format(message="Only an admin may read payloads.")
        return HTMLResponse(page, status_code=403)
    response = HTMLResponse(
        "<!doctype html><title>Signed in</title><p>Signed in: the Temporal Web UI can now "
        'decode payloads (with "Include cross-origin credentials" on).</p>'
    )
    response.set_cookie(
        COOKIE,
        state.signer.issue(user.id),
        max_age=state.settings.access_token_minutes * 60,
        path=request.url.path.rsplit("/", 1)[0],
        secure=request.url.scheme == "https",
        httponly=True,
        samesite="lax",
    )
    return response


@router.delete("/session", status_code=204)
async def sign_out(request: Request) -> Response:
    """Forget the codec session cookie in this browser."""
    response = Response(status_code=204)
    response.delete_cookie(COOKIE, path=request.url.path.rsplit("/", 1)[0])
    return response


@router.post("/decode")
async def decode(
    body: Payloads,
    state: StateDep,
    user: CodecAdmin,
    namespace: Annotated[str | None, _NAMESPACE] = None,
) -> Payloads:
    """The payloads opened: sealed ones decrypted, plaintext ones as they are (admins only)."""
    codec = state.temporal.converter.payload_codec
    return await _through(codec.decode if codec else None, body)


@router.post("/encode")
async def encode(
    body: Payloads,
    state: StateDep,
    user: CodecAdmin,
    namespace: Annotated[str | None, _NAMESPACE] = None,
) -> Payloads:
    """The payloads sealed as FlowForge seals them (admins only)."""
    codec = state.temporal.converter.payload_codec
    return await _through(codec.encode if codec else None, body)


class CodecCorsMiddleware:
    """CORS for the codec endpoints alone, from the Temporal UI's origins.

    The rest of the API stays same-origin: the UI's browser may call the codec
    and nothing else.

    Args:
        app: The application.
        path: Where the codec endpoints are (``/api/v1/codec``).
        origins: The origins the Temporal UI is served from.
    """

    def __init__(self, app: ASGIApp, *, path: str, origins: Sequence[str]) -> None:
        self._app = app
        self._path = path.rstrip("/") + "/"
        self._cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=["POST"],
            allow_headers=["Authorization", "Content-Type", "X-Namespace"],
            # The UI's "include cross-origin credentials" sends cookies too.
            allow_credentials=True,
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Requests under the codec path go through CORS; the rest pass untouched."""
        if scope["type"] == "http" and str(scope["path"]).startswith(self._path):
            await self._cors(scope, receive, send)
        else:
            await self._app(scope, receive, send)
