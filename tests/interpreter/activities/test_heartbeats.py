"""Every node activity heartbeats from its attempt's start, often enough for its timeout."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from interpreter.activities import build_http_client
from interpreter.activities.base import heartbeat_interval
from interpreter.egress import EgressPolicy
from tests.support.activities import TEST_RUN_KEY, node_request
from worker.runtime import node_activities
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast


async def test_every_node_activity_beats_before_it_does_anything_else() -> None:
    settings = WorkerSettings(run_signing_key=TEST_RUN_KEY, script_isolation="none")
    async with build_http_client(EgressPolicy(allow=[]), max_connections=1) as client:
        activities = node_activities(settings, client)
        names = set()
        for node_activity in activities:
            name = activity._Definition.must_from_callable(node_activity).name
            assert isinstance(name, str)
            names.add(name)
            beats: list[str] = []
            env = ActivityEnvironment()
            env.info = dataclasses.replace(env.info, heartbeat_timeout=timedelta(seconds=10))
            env.on_heartbeat = lambda *_details, beats=beats, name=name: beats.append(name)
            # A config no node accepts: the attempt ends at its first check, and has beaten.
            with pytest.raises(ApplicationError, match="config"):
                await env.run(node_activity, node_request({"bogus": 1}, node_type=name))
            assert beats, f"the {name} activity never heartbeat"
    assert names == {"http", "webhook", "script", "validate", "log"}


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
