"""ASGI middleware: request ids, access logs, metrics, the body size limit.

Written as plain ASGI (not ``BaseHTTPMiddleware``) so request bodies stream
through and the size limit sees every chunk.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.errors import error_response
from app.core.logging import request_id_var
from app.core.metrics import Metrics

logger = logging.getLogger("app.access")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class BodyTooLarge(HTTPException):
    """The 413 for a request body over the limit, raised as the body streams in."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is larger than {limit} bytes")


class BodyLimitMiddleware:
    """413 for bodies over ``limit`` bytes: by Content-Length at once, else as they stream."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass an HTTP request on with its body counted, or answer 413 once it is too large."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            await error_response(413, BodyTooLarge(self.limit).detail)(scope, receive, send)
            return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit:
                # Raised inside body parsing, FastAPI passes it to the error handlers.
                raise BodyTooLarge(self.limit)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await error_response(413, exc.detail)(scope, receive, send)


def route_template(scope: Scope) -> str:
    """The matched route as a template (``/api/v1/runs/{run_id}``), or ``unmatched``.

    Rebuilt from the path and its raw path parameters because an included
    router's route knows only its own part of the path. Templates keep metric
    label values bounded whatever ids clients send.
    """
    if scope.get("route") is None:
        return "unmatched"
    names = {str(value): name for name, value in scope.get("path_params", {}).items()}
    segments = scope["path"].split("/")
    return "/".join("{" + names[s] + "}" if s in names else s for s in segments)


class RequestContextMiddleware:
    """Tags each request with an id (``X-Request-ID`` in and out), logs and measures it.

    Anything raised past the exception handlers becomes a JSON 500 naming the
    request id, so a client never sees a stack trace and can quote the id.
    """

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve an HTTP request with its id set for the logs, then log and measure it."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status: int | None = None
        started = time.perf_counter()

        async def tagging_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await self.app(scope, receive, tagging_send)
        except Exception:
            logger.exception("unhandled error")
            if status is None:
                response = error_response(500, f"internal error; request id {request_id}")
                await response(scope, receive, tagging_send)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            code = status or 500
            self.metrics.observe_request(scope["method"], route, code, elapsed)
            logger.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                code,
                extra={
                    "request_id": request_id,
                    "route": route,
                    "status": code,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)
