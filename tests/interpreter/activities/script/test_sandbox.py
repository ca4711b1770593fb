"""What a script cannot reach: the worker's environment, the network, other processes,
and life after its activity is cancelled."""

from __future__ import annotations

import asyncio
import ctypes
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from temporalio.exceptions import CancelledError

from interpreter.activities import ScriptActivity, ScriptSettings
from tests.support.activities import (
    environment,
    fail,
    run,
    script_processes,
    script_request,
)
from tests.support.eventually import eventually

CANARY = "canary-7f3e1d"
UNISOLATED = ScriptSettings(isolation="none")

READ_ENVIRONMENTS = """
import os
def main(input):
    seen = [f"own: {k}={v}" for k, v in os.environ.items()]
    for pid in os.listdir('/proc'):
        try:
            with open(f'/proc/{pid}/environ', 'rb') as f:
                seen.append(f.read().decode(errors='replace'))
        except OSError:
            pass
    return [text for text in seen if input in text]
"""

CONNECT = """
import socket
def main(input):
    try:
        socket.create_connection(('127.0.0.1', input), timeout=2).close()
    except OSError as exc:
        return f'refused: {exc}'
    return 'connected'
"""


@pytest.fixture(scope="module")
async def isolated() -> ScriptActivity:
    activity = ScriptActivity()
    # Fails here, naming what is missing, where this machine cannot sandbox scripts.
    await activity.sandbox()
    return activity


@pytest.fixture
def unisolated() -> ScriptActivity:
    return ScriptActivity(UNISOLATED)


@pytest.fixture
async def bystander() -> AsyncIterator[int]:
    """A process with the script's own user and (no) privileges whose environment holds
    the canary: only a separate PID namespace can keep it from the script."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        "import os\n"
        "from interpreter.activities.script.runner import drop_privileges\n"
        "drop_privileges()\n"
        "os.execvp('sleep', ['sleep', '60'])\n",
        env={**os.environ, "FLOWFORGE_CANARY": CANARY},
    )
    try:
        await eventually(
            lambda: _exec_done(process.pid), within=10, what="the bystander to drop its privileges"
        )
        yield process.pid
    finally:
        process.kill()
        await process.wait()


def _exec_done(pid: int) -> bool:
    return Path(f"/proc/{pid}/cmdline").read_bytes().startswith(b"sleep\0")


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


async def test_the_script_sees_none_of_the_workers_environment(
    isolated: ScriptActivity, bystander: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWFORGE_CANARY", CANARY)

    assert await run(isolated.script, script_request(READ_ENVIRONMENTS, input=CANARY)) == []


async def test_without_isolation_other_processes_would_be_visible(
    unisolated: ScriptActivity, bystander: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: the canary is there to be found."""
    monkeypatch.setenv("FLOWFORGE_CANARY", CANARY)

    found = await run(unisolated.script, script_request(READ_ENVIRONMENTS, input=CANARY))

    assert not any(text.startswith("own:") for text in found)
    assert any(f"FLOWFORGE_CANARY={CANARY}" in text for text in found)


async def test_the_script_has_no_network(isolated: ScriptActivity, listener: int) -> None:
    result = await run(isolated.script, script_request(CONNECT, input=listener))

    assert result.startswith("refused: ")


async def test_without_isolation_the_listener_is_reachable(
    unisolated: ScriptActivity, listener: int
) -> None:
    """The control for the test above: the listener does accept connections."""
    assert await run(unisolated.script, script_request(CONNECT, input=listener)) == "connected"


@pytest.mark.parametrize("settings", [ScriptSettings(), UNISOLATED], ids=["isolated", "unisolated"])
async def test_cancelling_the_activity_kills_the_script(settings: ScriptSettings) -> None:
    activity = ScriptActivity(settings)
    env = environment(timeout=60)
    code = "import os\ndef main(input):\n    while True:\n        pass\n"
    task = asyncio.ensure_future(env.run(activity.script, script_request(code, timeout="50s")))
    await eventually(lambda: bool(script_processes()), within=10, what="the script to start")
    workdirs = {os.readlink(f"/proc/{pid}/cwd") for pid in script_processes()}

    env.cancel()

    with pytest.raises((asyncio.CancelledError, CancelledError)):
        await task
    assert script_processes() == []
    assert not any(Path(workdir).exists() for workdir in workdirs)


PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture
def subreaper() -> Iterator[None]:
    """Make this process adopt orphans, as a worker that is PID 1 in a container does."""
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        yield
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _zombie_children() -> list[str]:
    pid = os.getpid()
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            status = Path(f"/proc/{child}/status").read_text()
            if "\nState:\tZ" in status:
                found.append(status.splitlines()[0])
    return found


@pytest.mark.usefixtures("subreaper")
async def test_a_killed_script_leaves_no_orphan(isolated: ScriptActivity) -> None:
    code = "def main(input):\n    while True:\n        pass\n"

    error = await fail(isolated.script, script_request(code, timeout="500ms"))

    assert error.type == "ScriptTimeout"
    assert _zombie_children() == []
