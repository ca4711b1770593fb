"""Attacks a script node makes on the real worker (Temporal dev server, the worker's own
settings and activities), each failing to cross the sandbox; then the two ways out of it:
a sandbox that cannot be had, and the operator's explicit `none`."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from tests.support.activities import script_failure, script_output, script_request, script_worker

CANARY = "canary-4b9d2a"
SECRET = "jwt-secret-9c1e"

READ = """
def main(input):
    found = {}
    for path in input:
        try:
            with open(path) as f:
                found[path] = f.read()
        except OSError as exc:
            found[path] = f'refused: {type(exc).__name__}'
    return found
"""

READ_ENVIRONMENTS = """
import os
def main(input):
    pids = {str(input), str(os.getppid()), *(p for p in os.listdir('/proc') if p.isdigit())}
    seen = {}
    for pid in sorted(pids):
        try:
            with open(f'/proc/{pid}/environ', 'rb') as f:
                seen[pid] = f.read().decode(errors='replace')
        except OSError as exc:
            seen[pid] = f'refused: {type(exc).__name__}'
    return seen
"""


@pytest.fixture
async def worker(client: Client, task_queue: str) -> AsyncIterator[str]:
    async with script_worker(client, task_queue, script_max_processes=4, script_max_file_mb=1):
        yield task_queue


def refused(found: dict[str, Any]) -> bool:
    return all(str(value).startswith("refused: ") for value in found.values())


async def test_a_script_cannot_read_a_file_only_the_worker_can_read(
    client: Client, worker: str, tmp_path: Path
) -> None:
    secret = tmp_path / "jwt_secret"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    assert secret.stat().st_uid == os.geteuid()

    found = await script_output(client, worker, script_request(READ, input=[str(secret)]))

    assert found == {str(secret): "refused: FileNotFoundError"}


async def test_a_script_cannot_read_etc_shadow(client: Client, worker: str) -> None:
    found = await script_output(client, worker, script_request(READ, input=["/etc/shadow"]))

    assert refused(found)


async def test_a_script_cannot_read_the_workers_environment(
    client: Client, worker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWFORGE_CANARY", CANARY)

    seen = await script_output(client, worker, script_request(READ_ENVIRONMENTS, input=os.getpid()))

    assert seen[str(os.getpid())].startswith("refused: ")
    assert not any(CANARY in text for text in seen.values())


async def test_a_script_cannot_write_outside_its_temp_dir(
    client: Client, worker: str, tmp_path: Path
) -> None:
    # Open to everyone on the host: only the sandbox's own filesystem can stop the write.
    tmp_path.chmod(0o777)
    targets = [str(tmp_path / "planted"), "/tmp/planted", "/planted", "/usr/lib/planted"]
    code = (
        "def main(input):\n"
        "    done = {}\n"
        "    for path in input:\n"
        "        try:\n"
        "            with open(path, 'w') as f:\n"
        "                f.write('planted')\n"
        "            done[path] = 'written'\n"
        "        except OSError as exc:\n"
        "            done[path] = f'refused: {type(exc).__name__}'\n"
        "    with open('mine.txt', 'w') as f:\n"
        "        f.write('ok')\n"
        "    return done\n"
    )

    done = await script_output(client, worker, script_request(code, input=targets))

    assert refused(done), done
    assert not (tmp_path / "planted").exists()
    assert not Path("/tmp/planted").exists()


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


async def test_a_script_cannot_connect_to_a_server_on_the_workers_loopback(
    client: Client, worker: str, listener: int
) -> None:
    code = (
        "import socket\n"
        "def main(input):\n"
        "    try:\n"
        "        socket.create_connection(('127.0.0.1', input), timeout=2).close()\n"
        "    except OSError as exc:\n"
        "        return f'refused: {exc}'\n"
        "    return 'connected'\n"
    )

    assert (await script_output(client, worker, script_request(code, input=listener))).startswith(
        "refused: "
    )


async def test_a_script_cannot_fork_more_than_its_process_limit(
    client: Client, worker: str
) -> None:
    """The worker here runs as root, which the kernel exempts from RLIMIT_NPROC: the
    sandbox's own user is what makes the limit of 4 (the script included) hold."""
    code = (
        "import os, time\n"
        "def main(input):\n"
        "    forked = 0\n"
        "    try:\n"
        "        for _ in range(64):\n"
        "            if os.fork() == 0:\n"
        "                time.sleep(30)\n"
        "                os._exit(0)\n"
        "            forked += 1\n"
        "    except OSError as exc:\n"
        "        return {'forked': forked, 'error': exc.strerror}\n"
        "    return {'forked': forked}\n"
    )

    result = await script_output(client, worker, script_request(code))

    assert result == {"forked": 3, "error": "Resource temporarily unavailable"}


async def test_a_script_cannot_exceed_its_memory_limit(client: Client, worker: str) -> None:
    code = "def main(input):\n    return len(bytearray(1024**3))\n"

    error = await script_failure(client, worker, script_request(code, memory_mb=64))

    assert error.type == "ScriptMemoryExceeded"
    assert error.non_retryable


async def test_a_script_cannot_write_a_file_over_the_size_limit(
    client: Client, worker: str
) -> None:
    code = (
        "def main(input):\n"
        "    with open('big.bin', 'wb') as f:\n"
        "        f.write(b'x' * (2 * 1024 * 1024))\n"
    )

    error = await script_failure(client, worker, script_request(code))

    assert error.type == "ScriptError"
    assert "main raised OSError: [Errno 27] File too large" in error.message


async def test_a_script_cannot_fill_its_temp_dir_past_its_cap(client: Client, worker: str) -> None:
    code = (
        "def main(input):\n"
        "    for i in range(200):\n"
        "        with open(f'part-{i}.bin', 'wb') as f:\n"
        "            f.write(b'x' * (1024 * 1024 - 1))\n"
    )

    error = await script_failure(client, worker, script_request(code))

    assert "OSError: [Errno 28] No space left on device" in error.message


async def test_a_script_cannot_return_more_than_the_output_limit(
    client: Client, task_queue: str
) -> None:
    code = "def main(input):\n    return 'x' * 5000\n"
    async with script_worker(client, task_queue, script_max_output_bytes=4096):
        error = await script_failure(client, task_queue, script_request(code))

    assert error.type == "ScriptError"
    assert "main returned more than 4096 bytes of JSON" in error.message


async def test_a_missing_sandbox_fails_the_node_with_sandbox_unavailable(
    client: Client, task_queue: str
) -> None:
    missing = "/nonexistent/bwrap"
    async with script_worker(client, task_queue, script_bwrap=missing):
        error = await script_failure(
            client, task_queue, script_request("def main(input):\n    return 1\n")
        )

    assert error.type == "SandboxUnavailable"
    assert error.non_retryable
    assert f"FLOWFORGE_SCRIPT_BWRAP='{missing}' names no executable" in error.message
    assert "FLOWFORGE_SCRIPT_ISOLATION=none" in error.message


async def test_isolation_none_runs_scripts_unisolated_and_warns(
    client: Client,
    task_queue: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setenv("FLOWFORGE_SCRIPT_ISOLATION", "none")
    secret = tmp_path / "jwt_secret"
    secret.write_text(SECRET)
    secret.chmod(0o600)

    with caplog.at_level(logging.WARNING):
        async with script_worker(client, task_queue):
            found = await script_output(
                client, task_queue, script_request(READ, input=[str(secret)])
            )

    assert found == {str(secret): SECRET}
    assert any(
        record.levelno == logging.WARNING
        and "FLOWFORGE_SCRIPT_ISOLATION=none" in record.getMessage()
        and "WITHOUT ANY ISOLATION" in record.getMessage()
        for record in caplog.records
    )
