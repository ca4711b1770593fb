"""Serving the dashboard: its static files, and the one page every deep link loads.

``/ui``, ``/ui/workflows/{id}``, ``/ui/runs/{run_id}`` and every other path under
``/ui`` that is not a static file answer the same HTML shell; the browser-side
router then draws the page the path names. Every answer under ``/ui`` carries a
strict Content-Security-Policy: scripts, styles and connections from this origin
only, nothing inline, so a value from a run can never become code.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
PREFIX = "/ui"

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
"""``default-src 'self'``: no inline script or style, no other origin (a CDN included)."""

_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]

router = APIRouter(include_in_schema=False)


@router.get(PREFIX)
@router.get(PREFIX + "/{path:path}")
async def shell(path: str = "") -> FileResponse:
    """The dashboard's HTML shell, for ``/ui`` and every page path under it."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/")
@router.get("/dashboard")
async def to_dashboard() -> RedirectResponse:
    """The site root and ``/dashboard`` lead to the dashboard."""
    return RedirectResponse(PREFIX, status_code=307)


class SecurityHeadersMiddleware:
    """Adds the CSP and its companions to every answer under ``/ui``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to an answer under ``/ui``."""
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path == PREFIX or path.startswith(PREFIX + "/")):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


def install(app: FastAPI) -> None:
    """Mount the dashboard on ``app``: static files first, then the shell for every page."""
    app.mount(PREFIX + "/static", StaticFiles(directory=STATIC), name="ui-static")
    app.include_router(router)
    app.add_middleware(SecurityHeadersMiddleware)
