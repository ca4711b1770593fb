"""The FastAPI application: wiring only.

Run with ``uvicorn app.main:app`` (settings from the environment) or build
one with :func:`create_app` (tests pass their own settings).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

from app.api.docs_pages import install_docs
from app.api.errors import install_error_handlers
from app.api.middleware import (
    BodyLimitMiddleware,
    InputLimitMiddleware,
    RequestContextMiddleware,
)
from app.api.router import api_router
from app.api.routes import codec, health, hook_receiver
from app.api.tracing import TracingMiddleware
from app.core.logging import configure_logging
from app.core.metrics import Metrics
from app.core.state import AppState
from app.db.first_admin import ensure_first_admin
from app.runs.api_worker import serving_batches
from app.runs.events_out import run_events_out
from app.runs.live import EventHub
from app.settings import Settings, get_settings
from app.templates.builtin import seed_builtin_templates
from app.triggers.nats_events import nats_triggers
from app.ui import routes as dashboard
from interpreter import tracing

API_PREFIX = "/api/v1"


def _lifespan(
    settings: Settings, metrics: Metrics
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(
            settings.log_level, settings.log_format, settings.log_colour, settings.log_levels
        )
        state = AppState.build(settings, metrics)
        app.state.flowforge = state
        app.state.flowforge_events = EventHub(state)
        await ensure_first_admin(settings, state.sessions)
        await seed_builtin_templates(state.sessions)
        try:
            async with (
                serving_batches(state),
                nats_triggers(state) as triggers,
                run_events_out(state) as out,
            ):
                app.state.flowforge_nats = triggers
                app.state.flowforge_events_out = out
                yield
        finally:
            await app.state.flowforge_events.close()
            await state.engine.dispose()
            tracing.flush()

    return lifespan


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API application for ``settings`` (read from the environment if None)."""
    settings = settings or get_settings()
    metrics = Metrics()
    app = FastAPI(
        title="FlowForge",
        summary="Durable API orchestration: JSON DAG workflows run on Temporal.",
        version="1",
        lifespan=_lifespan(settings, metrics),
        # Served from the package instead (app.api.docs_pages): no CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # Inside the body limit, which caps the body this one reads whole.
    app.add_middleware(
        InputLimitMiddleware,
        max_json_depth=settings.max_json_depth,
        max_header_bytes=settings.max_header_bytes,
    )
    app.add_middleware(BodyLimitMiddleware, limit=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware, metrics=metrics)
    # Outside the request context, so its log lines carry the request's trace id.
    if tracing.setup(settings.tracing, "flowforge-api", outbound=settings.tracing_outbound):
        app.add_middleware(TracingMiddleware)
    # Outermost, so a preflight is answered before any other middleware sees it.
    app.add_middleware(
        codec.CodecCorsMiddleware,
        path=API_PREFIX + codec.PREFIX,
        origins=settings.temporal_ui_origins,
    )
    app.include_router(api_router, prefix=API_PREFIX)
    app.include_router(health.router)
    install_docs(app, app.openapi_url or "/openapi.json")
    # The contract's short form of the URL handed out under /api/v1/hooks.
    app.include_router(hook_receiver.router, include_in_schema=False)
    # The browser dashboard at /ui (static files, no build step).
    dashboard.install(app)
    return app


app = create_app()
