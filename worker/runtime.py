"""Building the worker: the interpreter workflow plus every node activity."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

import httpx
from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.client import Client
from temporalio.converter import (
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    WithSerializationContext,
)
from temporalio.worker import (
    PollerBehaviorSimpleMaximum,
    Worker,
    WorkflowInstance,
    WorkflowInstanceDetails,
    WorkflowRunner,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import Info, _Definition

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
from interpreter.contract.shared import SHARED
from interpreter.egress import (
    EgressPolicy,
    join_host_port,
    labelled,
    resolve_endpoints,
    resolve_stack,
    url_endpoints,
)
from interpreter.runtime.workflow import InterpreterWorkflow
from worker.attempts import AttemptLogInterceptor
from worker.database import Stores
from worker.settings import WorkerSettings
from worker.tracing import node_tracing

log = logging.getLogger("flowforge.worker")
MIB = 1024 * 1024

PASSTHROUGH = (
    "interpreter",
    "cel",
    "pydantic",
    "pydantic_core",
    "annotated_types",
    "jsonschema",
    "httpx",
)
"""Modules the workflow sandbox shares with the worker instead of importing per run.

The sandbox imports a workflow's module afresh for every run it creates, and
every module that module imports without passing it through: for the
interpreter that was ``interpreter.runtime.workflow`` and what its code
imports at run time, about a seventh of the worker's CPU under load and most
of a parked run's memory. Passing the ``interpreter`` package through is safe
because the sandbox guarded none of it anyway: ``interpreter.runtime.workflow``
imports every interpreter module inside ``imports_passed_through()``, so they
always ran with the real standard library, and determinism rests on the code
(time, randomness and I/O only through ``temporalio.workflow`` and
activities) and on replay (``tests/interpreter/workflow/test_replay.py``).
No run sees another's state: the interpreter keeps a run's state in its
``InterpreterWorkflow`` instance, and its modules hold only constants,
registries filled at import and ``lru_cache``s of pure functions (parsed
templates, compiled CEL programs, costs), which return the same for the same
input whichever run asked first (``tests/interpreter/workflow/test_sandbox.py`` checks that
runs leave module state as they found it), and ``interpreter.contract.shared``'s parsed
definitions, options and metadata, keyed by the digest of their JSON, which no run
changes (the same test checks each still matches its digest). The libraries are pure and
deterministic.
"""


RESTRICTIONS = SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)


def takes_no_context(converter: DataConverter) -> bool:
    """Whether the worker-side steps of ``converter`` ignore Temporal's serialization context.

    Outside the sandbox the worker runs only the payload codec and external
    storage on a workflow's payloads (conversion happens inside). FlowForge's
    codec (``interpreter.contract.codec.EncryptionCodec``) seals every payload
    the same way whatever it belongs to, and no external storage is set.
    """
    codec = converter.payload_codec
    return converter.external_storage is None and not isinstance(codec, WithSerializationContext)


class _ContextFreeInstance(WorkflowInstance):
    """A sandboxed run that answers "no context" without entering its sandbox.

    For every payload of every activation and completion, Temporal's worker asks
    the run which serialization context the payload's command has, up to six
    times a payload (once for each pass of its payload visitor). The sandboxed
    run answers each question by compiling and executing a line of code in its
    sandbox with the sandbox's import hooks swapped in: 18% of the worker's CPU
    on a chain of http nodes, for an answer the codec then ignores. With a codec
    that takes no context (``takes_no_context``), "none" makes the worker use the
    converter it was given, which is what every other answer came to anyway.
    """

    def __init__(self, inner: WorkflowInstance) -> None:
        self._inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self._inner.activate(act)

    def get_serialization_context(self, command_info: Any) -> SerializationContext | None:
        return None

    def get_external_store_context(self, command_info: Any) -> StorageDriverStoreContext:
        return StorageDriverStoreContext(target=None)

    def get_info(self) -> Info:
        return self._inner.get_info()

    def get_thread_id(self) -> int | None:
        return self._inner.get_thread_id()


class ContextFreeSandboxRunner(WorkflowRunner):
    """Temporal's sandbox runner, its runs wrapped in :class:`_ContextFreeInstance`."""

    def __init__(self, sandboxed: SandboxedWorkflowRunner) -> None:
        self.sandboxed = sandboxed

    @property
    def restrictions(self) -> SandboxRestrictions:
        """The sandbox's restrictions (passthrough modules included)."""
        return self.sandboxed.restrictions

    def prepare_workflow(self, defn: _Definition) -> None:
        """As the sandbox runner: check the workflow in a sandbox once."""
        self.sandboxed.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        """A sandboxed run, wrapped."""
        return _ContextFreeInstance(self.sandboxed.create_instance(det))

    def set_worker_level_failure_exception_types(
        self, types: Sequence[type[BaseException]]
    ) -> None:
        """As the sandbox runner."""
        self.sandboxed.set_worker_level_failure_exception_types(types)


def workflow_runner(converter: DataConverter) -> WorkflowRunner:
    """The sandbox the interpreter runs in (workers and replay tests share it).

    ``converter`` is the worker's (its client's) data converter: when its codec
    takes no serialization context the runs skip the sandbox round trip per
    payload (:class:`_ContextFreeInstance`); otherwise they are Temporal's own.
    """
    sandboxed = SandboxedWorkflowRunner(restrictions=RESTRICTIONS)
    return ContextFreeSandboxRunner(sandboxed) if takes_no_context(converter) else sandboxed


def stack_parts(settings: WorkerSettings) -> list[tuple[str, str]]:
    """``(part, "host:port")`` of every part of the FlowForge stack this worker knows of."""
    host, _, port_text = settings.temporal_address.rpartition(":")
    parts: list[tuple[str, str]] = []
    if host and port_text.isdigit():
        port = int(port_text)
        parts.append(("Temporal frontend", join_host_port(host, port)))
        # Temporal's HTTP API listens on +10 by default; the dev server's Web UI on +1000.
        parts += [
            (part, join_host_port(host, port + offset))
            for part, offset in (("Temporal HTTP API", 10), ("Temporal Web UI", 1000))
            if port + offset <= 65535
        ]
    parts += [("PostgreSQL", entry) for entry in url_endpoints(settings.database_url, 5432)]
    if settings.metrics_port:
        entry = join_host_port(settings.metrics_host, settings.metrics_port)
        parts.append(("worker metrics", entry))
    parts += [labelled(entry, "FLOWFORGE_STACK_ADDRESSES") for entry in settings.stack_addresses]
    return parts


def egress_policy(settings: WorkerSettings) -> EgressPolicy:
    """The SSRF guard's policy: the allow-list, and the stack it never lets nodes reach.

    Resolves the stack's host names now (blocking, once), and logs what is
    refused and what an operator let through on purpose.
    """
    stack, unresolved = resolve_stack(stack_parts(settings))
    exempt = resolve_endpoints(settings.egress_allow_stack)
    log.info(
        "egress: nodes may never call the stack at %s",
        ", ".join(sorted({f"{s.entry} ({s.part})" for s in stack})),
    )
    for name in [*unresolved, *exempt.unresolved]:
        log.warning("egress: %s does not resolve; refused by name only", name)
    if settings.egress_allow_stack:
        log.warning(
            "egress: FLOWFORGE_EGRESS_ALLOW_STACK lets nodes call %s",
            ", ".join(settings.egress_allow_stack),
        )
    return EgressPolicy(settings.egress_allow, stack=stack, allow_stack=exempt.endpoints)


def http_client(settings: WorkerSettings) -> httpx.AsyncClient:
    """The worker's one pooled HTTP client, behind the SSRF guard."""
    return build_http_client(
        egress_policy(settings),
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
        max_output_bytes=settings.script_max_output_bytes,
        max_file_bytes=settings.script_max_file_mb * MIB,
        max_workdir_bytes=settings.script_max_workdir_mb * MIB,
        max_processes=settings.script_max_processes,
        isolation=settings.script_isolation,
        bwrap=settings.script_bwrap,
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
        client: Connected with the settings' converter (``CommonSettings.data_converter``).
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
    SHARED.resize(settings.shared_definitions)
    # Every attempt of every node, kept for the API (Temporal keeps only the last failure).
    attempts = (
        [AttemptLogInterceptor(stores.attempts, settings.attempt_log_flush_ms / 1000)]
        if stores and stores.attempts
        else []
    )
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[InterpreterWorkflow, *workflows],
        activities=list(activities),
        max_concurrent_activities=settings.max_concurrent_activities,
        max_concurrent_workflow_tasks=settings.max_concurrent_workflow_tasks,
        workflow_task_poller_behavior=PollerBehaviorSimpleMaximum(settings.workflow_task_pollers),
        activity_task_poller_behavior=PollerBehaviorSimpleMaximum(settings.activity_task_pollers),
        max_heartbeat_throttle_interval=timedelta(seconds=settings.heartbeat_throttle_seconds),
        default_heartbeat_throttle_interval=timedelta(seconds=settings.heartbeat_throttle_seconds),
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_seconds),
        workflow_runner=workflow_runner(client.data_converter),
        interceptors=[*node_tracing(client, settings), *attempts],
    )
