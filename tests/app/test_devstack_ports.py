"""The dev stack pins every port its Temporal server opens, and tells its worker each one."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.devstack.services import api_argv, stack_addresses
from app.devstack.settings import DevSettings
from app.devstack.temporal import dev_server_argv

pytestmark = pytest.mark.fast


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_dev_servers_http_api_and_metrics_ports_are_refused_to_nodes() -> None:
    settings = DevSettings(TEMPORAL_ADDRESS="127.0.0.1:7233")
    argv = dev_server_argv(settings, db_file=Path("/tmp/t.db"))
    told = stack_addresses(settings).split(",")

    http_port = _flag(argv, "--http-port")
    metrics_port = _flag(argv, "--metrics-port")
    assert http_port != "0"
    assert metrics_port != "0"
    assert f"Temporal HTTP API=127.0.0.1:{http_port}" in told
    assert f"Temporal metrics=127.0.0.1:{metrics_port}" in told


def test_configured_side_ports_are_kept() -> None:
    settings = DevSettings(temporal_http_port=7243, temporal_metrics_port=7244)
    argv = dev_server_argv(settings, db_file=Path("/tmp/t.db"))

    assert _flag(argv, "--http-port") == "7243"
    assert _flag(argv, "--metrics-port") == "7244"


def test_the_apis_uvicorn_caps_the_request_head_above_the_header_limit() -> None:
    argv = api_argv(DevSettings(max_header_bytes=20_000))
    assert int(_flag(argv, "--h11-max-incomplete-event-size")) > 20_000


def test_chosen_side_ports_never_take_a_port_the_stack_was_told_to_use() -> None:
    # The ports the stack is told to use are not bound when the side ports are
    # probed, so a probe could be handed one of them; the choice must skip them.
    for _ in range(20):
        settings = DevSettings(TEMPORAL_ADDRESS="127.0.0.1:7233")
        told = {7233, settings.temporal_ui_port, settings.api_port, settings.worker_metrics_port}
        assert settings.temporal_http_port not in told
        assert settings.temporal_metrics_port not in told
        assert settings.temporal_http_port != settings.temporal_metrics_port
