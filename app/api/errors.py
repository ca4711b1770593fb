"""One error body for every failure: ``{"detail": str, "errors": [...]?}``.

``errors`` items are ``{"path", "code", "message"}`` where ``path`` is a JSON
pointer: into the definition or the run input for 422s about them, and into
the request (``/body/...``, ``/query/limit``) for malformed requests.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

from app.core.temporal import TemporalUnavailable, is_unreachable
from app.errors import ApiError, ErrorItem, pointer

logger = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The body of every error answer.

    Attributes:
        detail: What went wrong and what to do about it.
        errors: Every problem found, each with a JSON pointer into the definition,
            the run input or the request; absent when ``detail`` says it all.
    """

    detail: str
    errors: list[ErrorItem] | None = None


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in (
        (400, "Bad input (e.g. a cursor that was not handed out, JSON nested too deep)"),
        (401, "No or invalid credentials"),
        (403, "Your role does not allow this"),
        (404, "Not found, or not yours"),
        (409, "Conflicts with the current state"),
        (413, "Request body too large"),
        (422, "Invalid request, definition or input; `errors` lists every problem"),
        (429, "A quota or throttle was reached; `Retry-After` says when to try again"),
        (431, "Request headers too large"),
        (503, "PostgreSQL or Temporal is unavailable"),
    )
}
"""The error answers every API route may give, for the OpenAPI document."""


def error_response(
    status_code: int,
    detail: str,
    errors: Sequence[ErrorItem] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An answer of ``status_code`` with the one error body (``errors`` left out when None)."""
    body = ErrorBody(detail=detail, errors=list(errors) if errors is not None else None)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status_code, headers=headers
    )


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException | ApiError)
    errors = exc.errors if isinstance(exc, ApiError) else None
    return error_response(exc.status_code, str(exc.detail), errors, exc.headers)


async def _invalid_request(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        ErrorItem(path=pointer(e["loc"]), code=e["type"], message=e["msg"]) for e in exc.errors()
    ]
    where = ", ".join(item.path for item in errors[:5])
    return error_response(422, f"the request is invalid at {where}", errors)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    logger.warning("PostgreSQL unavailable: %s: %s", exc.__class__.__name__, exc)
    settings = getattr(getattr(request.app.state, "flowforge", None), "settings", None)
    if isinstance(exc, PoolTimeout):
        waited = f" (waited {settings.db_pool_timeout:g} s)" if settings else ""
        detail = f"every PostgreSQL connection is busy{waited}"
    elif isinstance(exc, TimeoutError):
        bound = max(settings.db_connect_timeout, settings.db_statement_timeout) if settings else 0
        detail = "PostgreSQL is not answering" + (f" (gave up after {bound:g} s)" if bound else "")
    else:
        detail = "PostgreSQL is unavailable"
    return error_response(503, f"{detail}; retry shortly")


async def _temporal_down(_request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, RPCError) and not is_unreachable(exc):
        logger.error("Temporal call failed", exc_info=exc)
        return error_response(502, f"Temporal refused the call: {exc.message}")
    logger.warning("Temporal unavailable: %s", exc)
    detail = str(exc) if isinstance(exc, TemporalUnavailable) else "Temporal is unavailable"
    return error_response(503, f"{detail}; retry shortly")


def install_error_handlers(app: FastAPI) -> None:
    """Make every failure in ``app`` answer with the one error body.

    HTTP and API errors keep their status; a malformed request is a 422 listing
    every field; PostgreSQL or Temporal out of reach is a 503, a call Temporal
    refuses a 502.
    """
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ApiError, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    # asyncpg raises socket errors (refused, timed out, DNS) unwrapped when it cannot
    # connect; within a request only the database does such I/O (Temporal's client
    # raises RPCError), so an OSError here means PostgreSQL is out of reach.
    # A timeout (a TimeoutError: connect, statement; PoolTimeout: no free connection)
    # means PostgreSQL is stopped or overloaded: 503 too, within the configured bounds.
    for db_error in (OperationalError, InterfaceError, OSError, TimeoutError, PoolTimeout):
        app.add_exception_handler(db_error, _database_down)
    for temporal_error in (TemporalUnavailable, RPCError):
        app.add_exception_handler(temporal_error, _temporal_down)
