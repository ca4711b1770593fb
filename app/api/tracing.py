"""A server span per API request while tracing, continuing the caller's ``traceparent``.

A run started by the request (``POST /workflows/{id}/runs``, a hook, an
event) is started inside this span, so the run's trace is the caller's
trace when it sent one. Installed only while ``FLOWFORGE_TRACING`` is on.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.middleware import route_template
from interpreter import tracing


class TracingMiddleware:
    """Runs each HTTP request in a span named ``METHOD /route/{template}``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request inside its span; a 5xx marks the span an error."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from opentelemetry.trace import SpanKind, Status, StatusCode

        parent = tracing.extract(dict(Headers(scope=scope)))
        status = 500

        async def noting_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with tracing.tracer().start_as_current_span(
            scope["method"], context=parent, kind=SpanKind.SERVER
        ) as span:
            try:
                await self.app(scope, receive, noting_send)
            finally:
                route = route_template(scope)
                span.update_name(f"{scope['method']} {route}")
                span.set_attributes(
                    {
                        "http.request.method": scope["method"],
                        "http.route": route,
                        "http.response.status_code": status,
                    }
                )
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
