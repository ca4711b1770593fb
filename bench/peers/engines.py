"""The engines the bench compares, what each needs installed, and what each guarantees."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EngineSpec:
    name: str
    label: str
    module: str
    """The workload module, run as ``python -m`` from the repository root."""
    requirements: tuple[str, ...] = ()
    """pip requirements of its own environment under the cache dir; none: FlowForge's."""
    settings: dict[str, str] = field(default_factory=dict)
    guarantees: str = ""
    """Durability, retries and delivery, as each engine's documentation states them."""


FLOWFORGE_GUARANTEES = (
    "Durable: every node's result is in the Temporal history, a run resumes on another "
    "worker after a crash. Retries per node by its policy. http calls at-least-once, "
    "with an idempotency key stable across attempts."
)

ENGINES = [
    EngineSpec(
        "flowforge-rest",
        "FlowForge via REST",
        "bench.peers.workloads.flowforge_rest",
        guarantees=FLOWFORGE_GUARANTEES,
    ),
    EngineSpec(
        "flowforge-temporal",
        "FlowForge via Temporal client",
        "bench.peers.workloads.flowforge_temporal",
        guarantees=FLOWFORGE_GUARANTEES,
    ),
    EngineSpec(
        "temporal-activities",
        "hand-written Temporal, activities",
        "bench.peers.workloads.temporal_handwritten",
        settings={"local": "false"},
        guarantees=(
            "Durable: each activity's result is in the history before the workflow goes on; "
            "retries by the activity's policy, scheduled by the server; at-least-once."
        ),
    ),
    EngineSpec(
        "temporal-local",
        "hand-written Temporal, local activities",
        "bench.peers.workloads.temporal_handwritten",
        settings={"local": "true"},
        guarantees=(
            "Durable once the workflow task that ran them completes (a marker per call); "
            "a worker crash before that runs them again. Retries by policy in the worker; "
            "at-least-once."
        ),
    ),
    EngineSpec(
        "prefect",
        "Prefect 3",
        "bench.peers.workloads.prefect_flows",
        requirements=("prefect>=3,<4", "httpx"),
        guarantees=(
            "Flow and task states recorded by the server; no automatic resume: a crashed "
            "flow run is marked Crashed and rerun by hand (results persisted only when "
            "asked). Task retries when given (`retries=`, default 0); at-least-once per attempt."
        ),
    ),
    EngineSpec(
        "dbos",
        "DBOS",
        "bench.peers.workloads.dbos_workflows",
        requirements=("dbos>=1", "httpx"),
        guarantees=(
            "Durable in PostgreSQL: each step's output is checkpointed, pending workflows "
            "are recovered when the process restarts. Step retries when asked "
            "(`retries_allowed`, default off); steps at-least-once, a workflow ID runs once."
        ),
    ),
    EngineSpec(
        "restate",
        "Restate",
        "bench.peers.workloads.restate_service",
        requirements=("restate-sdk>=1", "hypercorn", "httpx"),
        guarantees=(
            "Durable: each `ctx.run` result is journaled by the Restate server, an invocation "
            "resumes from its journal after a crash. Retries until success by default; "
            "side effects at-least-once, journaled results and calls exactly-once."
        ),
    ),
]

BASELINE = "flowforge-rest"


def by_name(names: list[str]) -> list[EngineSpec]:
    """The engines named, in the registry's order; an unknown name is a ValueError."""
    known = {engine.name for engine in ENGINES}
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValueError(f"unknown engine(s) {unknown}; known: {sorted(known)}")
    return [engine for engine in ENGINES if engine.name in names]
