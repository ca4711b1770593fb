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
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payload

from app.api.deps import AdminUser, StateDep
from app.errors import ApiError, ErrorItem, pointer
from interpreter.contract.codec import PayloadUnreadable

PREFIX = "/codec"
"""Under the API prefix: the endpoint to give the UI and CLI is ``<api>/api/v1/codec``."""

router = APIRouter(prefix=PREFIX, tags=["codec"])

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


@router.post("/decode")
async def decode(
    body: Payloads,
    state: StateDep,
    user: AdminUser,
    namespace: Annotated[str | None, _NAMESPACE] = None,
) -> Payloads:
    """The payloads opened: sealed ones decrypted, plaintext ones as they are (admins only)."""
    codec = state.temporal.converter.payload_codec
    return await _through(codec.decode if codec else None, body)


@router.post("/encode")
async def encode(
    body: Payloads,
    state: StateDep,
    user: AdminUser,
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
