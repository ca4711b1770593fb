"""Node activities in the SDK's activity harness (real activity context, no worker), and the
stand-ins for the stores a worker gives them."""

from __future__ import annotations

import dataclasses
import os
import uuid
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.workflow import ActivityCancellationType

from interpreter.activities import ActivityRequest, ActivityResult, DeliveryRecord
from interpreter.dsl.definition import RetrySpec
from interpreter.run_proof import ProofSubject, RunKeys, RunProof, parse_signing_key

TEST_RUN_KEY = "dGVzdC1ydW4tc2lnbmluZy1rZXktMzItYnl0ZXMhISE="
"""The run signing key of the tests' workers and activities (32 bytes, URL-safe base64)."""

TEST_KEYS = RunKeys(parse_signing_key(TEST_RUN_KEY))
"""Checks the proofs :func:`node_request` signs."""

Activity = Callable[[ActivityRequest], Awaitable[ActivityResult]]


def node_request(
    config: dict[str, Any],
    *,
    node_type: str = "http",
    retry: RetrySpec | None = None,
    idempotency_key: str | None = None,
    context: dict[str, Any] | None = None,
    owner: str = "user-1",
    circuit_breaker: str | None = None,
    proven: bool = True,
) -> ActivityRequest:
    """A node's request; ``proven``: with a proof for ``owner`` that :data:`TEST_KEYS` accepts."""
    subject = ProofSubject(
        run_id="run-1", workflow_id="wf-test", version=1, owner=owner, digest="d", root="r"
    )
    proof = TEST_KEYS.sign(
        RunProof(
            owner=owner, workflow_id="wf-test", version=1, run_id="run-1", digest="d", root="r"
        )
    )
    return ActivityRequest(
        run_id="run-1",
        node_id="call",
        node_path="call",
        node_type=node_type,
        config=config,
        retry=retry or RetrySpec(),
        idempotency_key=idempotency_key,
        context=context or {},
        owner=owner,
        circuit_breaker=circuit_breaker,
        proof=proof if proven else None,
        subject=subject if proven else None,
    )


def script_request(code: str, **config: Any) -> ActivityRequest:
    """A script node's request running ``code`` (``config`` adds the other fields)."""
    return node_request({"code": code, **config}, node_type="script")


def environment(*, attempt: int = 1, timeout: float = 10.0) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, attempt=attempt, start_to_close_timeout=timedelta(seconds=timeout)
    )
    return env


async def run(activity: Activity, request: ActivityRequest, **env: Any) -> Any:
    """The activity's output (the envelope is checked and unwrapped)."""
    result = await environment(**env).run(activity, request)
    assert isinstance(result, ActivityResult)
    return result.output


async def fail(activity: Activity, request: ActivityRequest, **env: Any) -> ApplicationError:
    """The ``ApplicationError`` the activity raised."""
    with pytest.raises(ApplicationError) as raised:
        await environment(**env).run(activity, request)
    return raised.value


class StaticSecrets:
    """A SecretResolver over a fixed dict, standing in for the encrypted store."""

    def __init__(self, stored: dict[str, str]) -> None:
        self.stored = stored
        self.asked: list[tuple[str, frozenset[str] | None]] = []

    async def values(self, owner: str, names: Collection[str] | None) -> dict[str, str]:
        self.asked.append((owner, None if names is None else frozenset(names)))
        return {k: v for k, v in self.stored.items() if names is None or k in names}


class MemoryRecorder:
    """Keeps delivery records in a list, standing in for the worker's PostgreSQL table."""

    def __init__(self) -> None:
        self.records: list[DeliveryRecord] = []

    async def record(self, delivery: DeliveryRecord) -> None:
        self.records.append(delivery)


def script_processes() -> list[int]:
    """Processes whose working directory is a script's."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if "flowforge-script-" in os.readlink(entry / "cwd"):
                found.append(int(entry.name))
        except (OSError, ValueError):
            pass
    return found


@workflow.defn(sandboxed=False)
class RunScript:
    """Runs one script node, the way the interpreter schedules node activities."""

    @workflow.run
    async def run(self, request: ActivityRequest) -> ActivityResult:
        result: ActivityResult = await workflow.execute_activity(
            "script",
            request,
            result_type=ActivityResult,
            start_to_close_timeout=timedelta(seconds=60),
            heartbeat_timeout=timedelta(seconds=2),
            retry_policy=RetryPolicy(maximum_attempts=1),
            cancellation_type=ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
        )
        return result


async def start_script(
    client: Client, task_queue: str, request: ActivityRequest
) -> WorkflowHandle[RunScript, ActivityResult]:
    """Start ``request`` as a script node on whichever worker polls ``task_queue``."""
    return await client.start_workflow(
        RunScript.run, request, id=f"script-{uuid.uuid4().hex}", task_queue=task_queue
    )


def script_worker(client: Client, task_queue: str, **settings: Any) -> Any:
    """The real worker (every node activity, built from ``WorkerSettings(**settings)``)
    plus :class:`RunScript`, not yet started."""
    from worker.runtime import create_worker
    from worker.settings import WorkerSettings

    built = WorkerSettings(graceful_shutdown_seconds=0, heartbeat_throttle_seconds=0.5, **settings)
    return create_worker(client, built, task_queue=task_queue, workflows=[RunScript])


async def script_output(client: Client, task_queue: str, request: ActivityRequest) -> Any:
    """What the script node outputs, run on the worker polling ``task_queue``."""
    result = await (await start_script(client, task_queue, request)).result()
    return result.output


async def script_failure(
    client: Client, task_queue: str, request: ActivityRequest
) -> ApplicationError:
    """The error the script node failed with, run on the worker polling ``task_queue``."""
    with pytest.raises(WorkflowFailureError) as raised:
        await (await start_script(client, task_queue, request)).result()
    activity_error = raised.value.cause
    assert isinstance(activity_error, ActivityError)
    cause = activity_error.cause
    assert isinstance(cause, ApplicationError)
    return cause
