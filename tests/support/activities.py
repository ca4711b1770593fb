"""Node activities in the SDK's activity harness (real activity context, no worker), and the
stand-ins for the stores a worker gives them."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Awaitable, Callable, Collection
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

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
