"""Every ``/api/v1`` router."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.errors import ERROR_RESPONSES
from app.api.routes import (
    api_keys,
    auth,
    run_control,
    runs,
    users,
    versions,
    workflow_runs,
    workflows,
)

api_router = APIRouter(responses=ERROR_RESPONSES)
for module in (auth, users, api_keys, workflows, versions, workflow_runs, runs, run_control):
    api_router.include_router(module.router)
