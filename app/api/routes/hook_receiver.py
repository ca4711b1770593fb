"""Inbound webhook calls: anyone holding the hook's secret may start a run.

Mounted at ``/api/v1/hooks/{hook_id}`` (the URL handed out) and, as in the
API contract's short form, at ``/hooks/{hook_id}``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status
from pydantic import BaseModel

from app.api.deps import SessionDep, StateDep, TemporalDep, idempotency_key
from app.db.crud.hooks import (
    claim_delivery,
    forget_delivery,
    get_hook,
    remember_run,
    remembered_run,
)
from app.db.crud.workflows import get_workflow
from app.db.models.workflow import WorkflowStatus
from app.errors import ApiError
from app.runs.launch import launch_run
from app.triggers.hook_secrets import open_hook_secret
from app.triggers.hook_signature import signature_digest, signature_problem

router = APIRouter(tags=["webhooks"])

DeliveryKey = Annotated[
    str | None,
    idempotency_key(
        "Repeat a call safely: the same key for the same hook returns the run it "
        "started (200). With ``X-Timestamp`` the signature covers ``Idempotency-Key``; "
        "``X-Delivery-Id`` (sent by FlowForge's webhook node) counts only without one."
    ),
]


_CLAIM_ATTEMPTS = 50
_CLAIM_PAUSE = 0.2
"""A replay arriving while the first call still starts its run waits up to ~10 s for it."""


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

    The signature covers ``v1:<X-Timestamp>:<Idempotency-Key or empty>:<body>``;
    only a hook created with ``require_timestamp: false`` also accepts one of the
    body alone. A signature accepted before answers 200 with the run it started
    until its timestamp goes stale. 401 bad signature, missing or stale
    ``X-Timestamp``, 404 unknown hook, 409 disabled hook or deleted workflow,
    413 body over the limit, 400 body not JSON.
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
    now = time.time()
    problem = signature_problem(
        secret=open_hook_secret(settings, hook.id, hook.secret),
        body=body,
        signature=x_signature,
        timestamp=x_timestamp,
        now=now,
        max_skew=settings.hook_max_clock_skew,
        idempotency_key=idempotency_key,
        require_timestamp=hook.require_timestamp,
    )
    if problem is not None or x_signature is None:
        raise ApiError(401, problem or "missing X-Signature")
    if workflow.status == WorkflowStatus.PAUSED:
        # After the signature: only the hook's sender learns that it is paused.
        raise ApiError(
            423, f"the workflow of webhook {hook_id} is paused: deliveries resume with it"
        )
    run_input = _json(body)
    # Only a signed key may name the run; the legacy scheme signs no header at all.
    key = idempotency_key if x_timestamp is not None else idempotency_key or x_delivery_id
    digest = signature_digest(x_signature)
    # Remembered until the signature is stale anyway (one second past, for the boundary).
    stale_after = (now if x_timestamp is None else int(x_timestamp)) + settings.hook_max_clock_skew
    now_at = datetime.fromtimestamp(now, UTC)
    expires_at = datetime.fromtimestamp(max(stale_after, now) + 1, UTC)
    for _ in range(_CLAIM_ATTEMPTS):
        if await claim_delivery(
            session=session, hook_id=hook.id, digest=digest, now=now_at, expires_at=expires_at
        ):
            break
        seen, first_run = await remembered_run(
            session=session, hook_id=hook.id, digest=digest, now=now_at
        )
        if first_run is not None:
            response.status_code = status.HTTP_200_OK
            return HookAccepted(run_id=first_run)
        if seen:
            await asyncio.sleep(_CLAIM_PAUSE)
    else:
        raise ApiError(
            409,
            f"a call with this signature to webhook {hook_id} is still starting its run: "
            "repeat it shortly to get that run",
        )
    try:
        launched = await launch_run(
            client=temporal,
            session=session,
            state=state,
            workflow=workflow,
            version=None,
            run_input=run_input,
            idempotency_key=f"hook:{hook.id}:{key}" if key else None,
            trigger="webhook",
        )
    except BaseException:
        await forget_delivery(session=session, hook_id=hook.id, digest=digest)
        raise
    await remember_run(
        session=session, hook_id=hook.id, digest=digest, run_id=launched.started.run_id
    )
    if not launched.started.created:
        response.status_code = status.HTTP_200_OK
    return HookAccepted(run_id=launched.started.run_id)
