"""Inbound webhook calls: anyone holding the hook's secret may start a run.

Mounted at ``/api/v1/hooks/{hook_id}`` (the URL handed out) and, as in the
API contract's short form, at ``/hooks/{hook_id}``.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel

from app.api.deps import SessionDep, StateDep, TemporalDep, idempotency_key
from app.db.crud.hooks import get_hook
from app.db.crud.workflows import get_workflow
from app.errors import ApiError
from app.runs.launch import launch_run
from app.triggers.hook_secrets import open_hook_secret
from app.triggers.hook_signature import signature_problem

router = APIRouter(tags=["webhooks"])

DeliveryKey = Annotated[
    str | None,
    idempotency_key(
        "Repeat a call safely: the same key for the same hook returns the "
        "run it started (200). ``X-Delivery-Id`` (sent by FlowForge's webhook node) counts too."
    ),
]


class HookAccepted(BaseModel):
    """The run a webhook call started."""

    run_id: str


async def _capped_body(request: Request, limit: int) -> bytes:
    too_large = ApiError(413, f"webhook body is larger than {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ApiError(400, f"the webhook body must be JSON: {exc}") from None


@router.post(
    "/hooks/{hook_id}",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": HookAccepted, "description": "The run this delivery key started"}},
)
async def receive(
    hook_id: str,
    request: Request,
    response: Response,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    x_signature: Annotated[str | None, Header(max_length=200)] = None,
    x_timestamp: Annotated[str | None, Header(max_length=20)] = None,
    idempotency_key: DeliveryKey = None,
    x_delivery_id: DeliveryKey = None,
) -> HookAccepted:
    """Start a run with the JSON body as input, if ``X-Signature`` proves the secret.

    401 bad signature or stale ``X-Timestamp``, 404 unknown hook, 409 disabled
    hook or deleted workflow, 413 body over the limit, 400 body not JSON.
    """
    try:
        hook = await get_hook(session=session, hook_id=uuid.UUID(hook_id))
    except ValueError:
        hook = None
    if hook is None:
        raise ApiError(404, f"webhook {hook_id} not found")
    if not hook.enabled:
        raise ApiError(409, f"webhook {hook_id} is disabled: its owner can enable it again")
    workflow = await get_workflow(session=session, workflow_id=hook.workflow_id)
    if workflow is None:
        raise ApiError(409, f"the workflow of webhook {hook_id} was deleted")
    settings = state.settings
    body = await _capped_body(request, settings.hook_max_body_bytes)
    problem = signature_problem(
        secret=open_hook_secret(settings, hook.id, hook.secret),
        body=body,
        signature=x_signature,
        timestamp=x_timestamp,
        now=time.time(),
        max_skew=settings.hook_max_clock_skew,
    )
    if problem is not None:
        raise ApiError(401, problem)
    key = idempotency_key or x_delivery_id
    launched = await launch_run(
        client=temporal,
        session=session,
        state=state,
        workflow=workflow,
        version=None,
        run_input=_json(body),
        idempotency_key=f"hook:{hook.id}:{key}" if key else None,
        trigger="webhook",
    )
    if not launched.started.created:
        response.status_code = status.HTTP_200_OK
    return HookAccepted(run_id=launched.started.run_id)
