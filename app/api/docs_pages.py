"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served with their assets from the package.

The assets live in ``app/api/static/`` (fetched by its ``fetch_assets.py``,
versions and licences in its ``VERSIONS.json``) and are served under
``/docs/assets/``: the pages load nothing from elsewhere and work offline.
Neither page has an inline script, so their Content-Security-Policy allows
scripts from the API alone; styles may be inline (both libraries inject them).
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/docs/assets"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP})


def install_docs(app: FastAPI, openapi_url: str) -> None:
    """Serve ``/docs`` and ``/redoc`` for ``openapi_url``, and their assets."""
    router = APIRouter(include_in_schema=False)
    spec = escape(openapi_url, quote=True)
    title = escape(app.title)

    @router.get("/docs")
    async def swagger_ui() -> HTMLResponse:
        head = (
            f'<link rel="icon" href="{ASSETS}/swagger-ui/favicon-32x32.png">\n'
            f'<link rel="stylesheet" href="{ASSETS}/swagger-ui/swagger-ui.css">\n'
        )
        body = (
            f'<div id="swagger-ui" data-openapi-url="{spec}"></div>\n'
            f'<script src="{ASSETS}/swagger-ui/swagger-ui-bundle.js"></script>\n'
            f'<script src="{ASSETS}/docs-init.js"></script>\n'
        )
        return _page(f"{title} - Swagger UI", head, body)

    @router.get("/redoc")
    async def redoc() -> HTMLResponse:
        body = (
            f'<redoc spec-url="{spec}"></redoc>\n'
            f'<script src="{ASSETS}/redoc/redoc.standalone.js"></script>\n'
        )
        return _page(f"{title} - ReDoc", "", body)

    app.include_router(router)
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")
