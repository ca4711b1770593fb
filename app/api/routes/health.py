"""Liveness, readiness and metrics (outside ``/api/v1``)."""

from __future__ import annotations

import asyncio
import secrets

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import text

from app.api.deps import StateDep
from app.api.errors import error_response
from app.core.metrics import CONTENT_TYPE
from app.core.state import AppState
from app.core.temporal import TemporalUnavailable
from app.errors import ErrorItem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    """A passed check: ``ok`` from ``/healthz``, ``ready`` from ``/readyz``."""

    status: str


async def _postgres_problem(state: AppState) -> str | None:
    try:
        async with asyncio.timeout(state.settings.db_connect_timeout):
            async with state.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not ready"; the message says which
        return f"PostgreSQL is unreachable: {exc.__class__.__name__}: {exc}"
    return None


async def _temporal_problem(state: AppState) -> str | None:
    try:
        client = await state.temporal.client()
        await client.service_client.check_health(timeout=state.temporal.rpc_timeout)
    except TemporalUnavailable as exc:
        return str(exc)
    except Exception as exc:  # any failure means "not ready"; the message says which
        return f"Temporal is unreachable: {exc.__class__.__name__}: {exc}"
    return None


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up (checks nothing else)."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"description": "PostgreSQL or Temporal is unreachable"}})
async def readyz(state: StateDep) -> Response:
    """Ready when PostgreSQL answers ``SELECT 1`` and Temporal answers a health check."""
    postgres, temporal = await asyncio.gather(_postgres_problem(state), _temporal_problem(state))
    problems = [
        ErrorItem(path=f"/{name}", code="unreachable", message=message)
        for name, message in (("postgres", postgres), ("temporal", temporal))
        if message is not None
    ]
    if problems:
        names = " and ".join(item.path.lstrip("/") for item in problems)
        return error_response(503, f"not ready: {names} unreachable", problems)
    return Response(Health(status="ready").model_dump_json(), media_type="application/json")


@router.get(
    "/metrics",
    response_class=Response,
    responses={401: {"description": "``FLOWFORGE_METRICS_TOKEN`` is set and was not sent"}},
)
async def metrics(state: StateDep, request: Request) -> Response:
    """Prometheus text exposition of this process's metrics (aggregate series only)."""
    token = state.settings.metrics_token
    if token:
        sent = request.headers.get("authorization", "")
        # compare_digest: the time taken says nothing about how much of the token matched.
        if not secrets.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return error_response(
                401,
                "send Authorization: Bearer <FLOWFORGE_METRICS_TOKEN> to read the metrics",
                headers={"WWW-Authenticate": "Bearer"},
            )
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
