"""ASGI middleware: request ids, access logs, metrics, the body and input limits.

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
from app.api.json_limits import (
    too_deep,
    unstorable_form,
    unstorable_request_parts,
    unstorable_values,
)
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


class InputLimitMiddleware:
    """Refuse what no route can handle before any route parses it.

    431 for headers over ``max_header_bytes`` in all; 400 for a JSON body
    nested deeper than ``max_json_depth``; 422 for a NUL character, a lone
    surrogate or a non-finite number anywhere in the request. Each refusal
    names the place with a JSON pointer. The body is read whole (the body
    limit outside this one caps it) and handed on unchanged, so routes that
    read the raw body (inbound webhooks) are covered too.
    """

    def __init__(self, app: ASGIApp, max_json_depth: int, max_header_bytes: int) -> None:
        self.app = app
        self.max_json_depth = max_json_depth
        self.max_header_bytes = max_header_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a request on with its body replayed, or answer 431, 400 or 422."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        header_bytes = sum(len(name) + len(value) for name, value in headers)
        if header_bytes > self.max_header_bytes:
            detail = (
                f"request headers are larger than {self.max_header_bytes} bytes in all: "
                "send fewer or shorter headers"
            )
            await error_response(431, detail)(scope, receive, send)
            return
        problems = unstorable_request_parts(scope["path"], scope["query_string"], headers)
        body, after = await _read_body(receive)
        if not problems and body:
            content_type = Headers(scope=scope).get("content-type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                problems = unstorable_form(body)
            elif not content_type.startswith("multipart/"):
                # Any other body may be JSON: webhooks are parsed whatever their type.
                deep = too_deep(body, self.max_json_depth)
                if deep is not None:
                    detail = f"the request body is nested too deep at {deep.path}"
                    await error_response(400, detail, [deep])(scope, receive, send)
                    return
                problems = unstorable_values(body)
        if problems:
            where = ", ".join(item.path for item in problems[:5])
            detail = f"the request cannot be stored as sent at {where}"
            await error_response(422, detail, problems)(scope, receive, send)
            return
        replay: list[Message] = [
            {"type": "http.request", "body": body, "more_body": False},
            *after,
        ]

        async def replaying_receive() -> Message:
            # Once the body is handed on, disconnects come from the server as before.
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replaying_receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, list[Message]]:
    """The whole body, and the message that cut it short (a disconnect) if any."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return bytes(body), [message]
        body += message.get("body", b"")
        if not message.get("more_body", False):
            return bytes(body), []


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


def _logged_ids(scope: Scope) -> dict[str, str]:
    """The run and workflow a request names in its path, under the workers' log field names."""
    params = scope.get("path_params", {})
    fields = (("run_id", "flowforge_run_id"), ("workflow_id", "flowforge_workflow_id"))
    return {field: str(params[name]) for name, field in fields if name in params}


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
                    **_logged_ids(scope),
                },
            )
            request_id_var.reset(token)
