"""Every ``/api/v1`` router."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.errors import ERROR_RESPONSES
from app.api.routes import (
    api_keys,
    auth,
    circuit_breakers,
    events,
    hook_receiver,
    hooks,
    metrics,
    rerun,
    run_control,
    run_events,
    run_nodes,
    run_signals,
    runs,
    schedules,
    secrets,
    templates,
    users,
    versions,
    workflow_runs,
    workflows,
)

api_router = APIRouter(responses=ERROR_RESPONSES)
for module in (auth, users, api_keys, workflows, versions, workflow_runs, runs, run_control):
    api_router.include_router(module.router)
# Operator actions on one run: signals, and retrying or skipping a suspended node.
for module in (run_signals, run_nodes):
    api_router.include_router(module.router)
# Triggers: schedules, inbound webhooks, events.
for module in (schedules, hooks, hook_receiver, events):
    api_router.include_router(module.router)
# Operations: the secrets nodes read, the circuit breakers their calls go through.
for module in (secrets, circuit_breakers):
    api_router.include_router(module.router)
# What runs tell: workflow metrics, live run events; and rerunning a run.
for module in (metrics, run_events, rerun):
    api_router.include_router(module.router)
# Templates: ready-made definitions, instantiated into workflows.
api_router.include_router(templates.router)
