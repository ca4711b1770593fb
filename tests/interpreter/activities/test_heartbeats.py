"""Node activities heartbeat once they outlast one interval, often enough for their timeout."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from interpreter.activities import build_http_client
from interpreter.activities.base import ActivityRequest, heartbeat_interval, node_activity
from interpreter.egress import EgressPolicy
from tests.support.activities import TEST_RUN_KEY, node_request
from worker.runtime import node_activities
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast


def beating_environment(timeout: timedelta, beats: list[float]) -> ActivityEnvironment:
    """The SDK's activity harness, recording when each heartbeat came."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=timeout)
    env.on_heartbeat = lambda *_details: beats.append(time.monotonic())
    return env


async def test_a_node_activity_ending_within_one_interval_never_beats() -> None:
    settings = WorkerSettings(run_signing_key=TEST_RUN_KEY, script_isolation="none")
    async with build_http_client(EgressPolicy(allow=[]), max_connections=1) as client:
        activities = node_activities(settings, client)
        names = set()
        for node_activity in activities:
            name = activity._Definition.must_from_callable(node_activity).name
            assert isinstance(name, str)
            names.add(name)
            # Every node activity runs under the heartbeat of ``node_activity``.
            assert getattr(node_activity, "__wrapped__", None) is not None, name
            beats: list[float] = []
            env = beating_environment(timedelta(seconds=10), beats)
            # A config no node accepts: the attempt ends at its first check.
            with pytest.raises(ApplicationError, match="config"):
                await env.run(node_activity, node_request({"bogus": 1}, node_type=name))
            assert beats == [], f"the {name} activity beat although it ended at once"
    assert names == {"http", "webhook", "script", "validate", "log"}


class Sleeper:
    @node_activity
    async def sleep(self, request: ActivityRequest) -> Any:
        await asyncio.sleep(request.config["seconds"])
        return "slept"


async def test_a_longer_attempt_beats_every_interval_from_the_first_interval_on() -> None:
    timeout = timedelta(seconds=0.6)  # beats every 0.2 s
    interval = heartbeat_interval(timeout)
    beats: list[float] = []
    began = time.monotonic()

    result = await beating_environment(timeout, beats).run(
        Sleeper().sleep, node_request({"seconds": interval * 4.5}, node_type="log")
    )

    assert result.output == "slept"
    assert len(beats) >= 2
    assert beats[0] - began >= interval * 0.95


@pytest.mark.parametrize(
    ("timeout", "interval"),
    [
        (None, 5.0),
        (timedelta(seconds=10), 10 / 3),
        (timedelta(seconds=30), 5.0),
        (timedelta(seconds=3), 1.0),
        (timedelta(milliseconds=30), 0.1),
    ],
)
def test_beats_come_three_times_per_heartbeat_timeout_within_sane_bounds(
    timeout: timedelta | None, interval: float
) -> None:
    assert heartbeat_interval(timeout) == pytest.approx(interval)
