"""The dev stack's Temporal server: its persistence and its dynamic config, as started."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
from pathlib import Path

import pytest

from app.devstack.readiness import wait_for_temporal
from app.devstack.settings import DevSettings
from app.devstack.temporal import dev_server_argv


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, word in enumerate(argv) if word == flag]


@pytest.mark.fast
def test_file_persistence_writes_ahead_and_memory_persistence_has_no_file() -> None:
    on_file = dev_server_argv(DevSettings(), Path("/tmp/t.db"))
    in_memory = dev_server_argv(DevSettings(temporal_persistence="memory"), Path("/tmp/t.db"))

    assert _values(on_file, "--db-filename") == ["/tmp/t.db"]
    assert _values(on_file, "--sqlite-pragma") == ["journal_mode=wal", "synchronous=normal"]
    assert "--db-filename" not in in_memory
    assert "--sqlite-pragma" not in in_memory


@pytest.mark.fast
def test_the_dev_server_gets_the_lifted_queue_throttles() -> None:
    values = _values(dev_server_argv(DevSettings(), Path("/tmp/t.db")), "--dynamic-config-value")

    assert "history.transferProcessorMaxPollRPS=10000" in values
    assert "history.timerProcessorMaxPollRPS=10000" in values


async def test_the_dev_server_starts_on_its_file_in_write_ahead_log_mode(tmp_path: Path) -> None:
    address = f"127.0.0.1:{_free_port()}"
    settings = DevSettings(TEMPORAL_ADDRESS=address, temporal_ui_port=_free_port(), demo_api=False)
    db_file = tmp_path / "temporal.db"
    server = subprocess.Popen(
        dev_server_argv(settings, db_file), start_new_session=True, stdout=subprocess.DEVNULL
    )
    try:
        await wait_for_temporal(address, "default", 60)
        with sqlite3.connect(db_file) as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
