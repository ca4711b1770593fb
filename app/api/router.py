"""Every ``/api/v1`` router."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.errors import ERROR_RESPONSES
from app.api.routes import (
    api_keys,
    auth,
    circuit_breakers,
    codec,
    events,
    failures,
    hook_receiver,
    hooks,
    live,
    metrics,
    plugins,
    rollouts,
    runs,
    schedules,
    secrets,
    templates,
    test_runs,
    users,
    versions,
    workflows,
)

api_router = APIRouter(responses=ERROR_RESPONSES)
for module in (auth, users, api_keys, workflows, versions, rollouts):
    api_router.include_router(module.router)
# Test runs: a workflow on the real engine with chosen nodes mocked.
api_router.include_router(test_runs.router)
# Runs: start, read, steer (pause, signals, node retry and skip), watch, rerun.
api_router.include_router(runs.router)
# Failed runs not yet redriven or dismissed, by workflow and failing node.
api_router.include_router(failures.router)
# Every run's events for the caller, for the dashboard's lists (SSE and WebSocket).
api_router.include_router(live.router)
# Triggers: schedules, inbound webhooks, events.
for module in (schedules, hooks, hook_receiver, events):
    api_router.include_router(module.router)
# Operations: the secrets nodes read, the circuit breakers their calls go through.
for module in (secrets, circuit_breakers):
    api_router.include_router(module.router)
# Plugins: versioned script code that script nodes run by name.
for module in (plugins,):
    api_router.include_router(module.router)
# What runs tell: a workflow's metrics.
api_router.include_router(metrics.router)
# Templates: ready-made definitions, instantiated into workflows.
api_router.include_router(templates.router)
# Temporal's remote codec: admins read sealed history in the Web UI and CLI.
api_router.include_router(codec.router)
