"""Building the worker: the interpreter workflow plus every node activity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from interpreter.activities import (
    HttpActivity,
    HttpSettings,
    LogActivity,
    ScriptActivity,
    ScriptSettings,
    ValidateActivity,
    WebhookActivity,
    build_http_client,
)
from interpreter.egress.policy import EgressPolicy
from interpreter.runtime.workflow import InterpreterWorkflow
from worker.database import Stores
from worker.settings import WorkerSettings

# Pure, deterministic libraries the workflow uses: loading them once outside the
# sandbox instead of per workflow run keeps workflow tasks fast.
PASSTHROUGH = ("cel", "pydantic", "pydantic_core", "annotated_types", "jsonschema", "httpx")


def workflow_runner() -> SandboxedWorkflowRunner:
    """The sandbox the interpreter runs in (workers and replay tests share it)."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


def http_client(settings: WorkerSettings) -> httpx.AsyncClient:
    """The worker's one pooled HTTP client, behind the SSRF guard."""
    return build_http_client(
        EgressPolicy(allow=settings.egress_allow),
        max_connections=settings.http_max_connections,
    )


def node_activities(
    settings: WorkerSettings,
    client: httpx.AsyncClient,
    stores: Stores | None = None,
) -> list[Callable[..., Any]]:
    """Every node activity; ``stores`` (PostgreSQL) adds delivery records, secrets, breakers.

    Outbound nodes act for a run's owner only on its proof, checked with the
    run signing keys (``settings.run_keys()``).

    Without a key (prod only) no node may act for an owner.
    """
    kept = stores or Stores()
    limits = HttpSettings(
        max_response_bytes=settings.max_response_bytes, max_redirects=settings.http_max_redirects
    )
    scripts = ScriptSettings(
        default_timeout=settings.script_default_timeout,
        max_timeout=settings.script_max_timeout,
        default_memory_mb=settings.script_default_memory_mb,
        max_memory_mb=settings.script_max_memory_mb,
        require_network_isolation=settings.script_require_network_isolation,
    )
    # A prod worker without a database holds nothing owner-scoped, so it may lack the key.
    prod_without_key = settings.environment == "prod" and not settings.run_signing_key
    keys = None if prod_without_key else settings.run_keys()
    return [
        HttpActivity(client, limits, secrets=kept.secrets, breakers=kept.breakers, keys=keys).http,
        LogActivity().log,
        ValidateActivity().validate,
        WebhookActivity(
            client,
            recorder=kept.recorder,
            secrets=kept.secrets,
            breakers=kept.breakers,
            keys=keys,
        ).webhook,
        ScriptActivity(scripts).script,
    ]


def create_worker(
    client: Client,
    settings: WorkerSettings,
    *,
    task_queue: str | None = None,
    activities: Sequence[Callable[..., Any]] | None = None,
    workflows: Sequence[type] = (),
    http: httpx.AsyncClient | None = None,
    stores: Stores | None = None,
) -> Worker:
    """A worker running the interpreter and the node activities.

    Args:
        client: Connected with ``interpreter.contract.client.DATA_CONVERTER``.
        settings: Concurrency, queue and egress settings.
        task_queue: Overrides ``settings.task_queue`` (tests use their own).
        activities: Overrides the node activities.
        workflows: Extra workflow classes (benchmarks add hand-written ones).
        http: The pooled HTTP client; one is built from settings if omitted
            (the caller then owns closing it via ``worker`` shutdown).
        stores: What lives in PostgreSQL (``worker.database.stores``): webhook
            delivery records, secrets (nodes reading one fail without them)
            and circuit breakers (calls are unguarded without them).
    """
    if activities is None:
        activities = node_activities(settings, http or http_client(settings), stores)
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[InterpreterWorkflow, *workflows],
        activities=list(activities),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        max_heartbeat_throttle_interval=timedelta(seconds=settings.heartbeat_throttle_seconds),
        default_heartbeat_throttle_interval=timedelta(seconds=settings.heartbeat_throttle_seconds),
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
        workflow_runner=workflow_runner(),
    )
