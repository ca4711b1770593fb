"""Run one sandboxed child: feed its job, capture its output, enforce the deadline.

The child's stdout and stderr (the user's prints) and its outcome travel on
three separate pipes, so nothing the code prints can corrupt the outcome.
Every pipe is read while the child runs (a full pipe would stall it) and kept
only up to a cap. The child leads its own process group, and the whole group
is killed at the deadline, on cancellation, or on any other way out.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from interpreter.activities.script.sandbox import Launch

_CHUNK = 65_536
_REAP_SECONDS = 1.0


@dataclass
class Capture:
    """The first ``limit`` bytes read from a pipe; ``truncated`` if more came."""

    limit: int
    data: bytearray = field(default_factory=bytearray)
    truncated: bool = False

    async def drain(self, reader: asyncio.StreamReader) -> None:
        """Read the pipe to its end, keeping the first ``limit`` bytes."""
        while chunk := await reader.read(_CHUNK):
            room = self.limit - len(self.data)
            if len(chunk) > room:
                self.truncated = True
            self.data += chunk[: max(room, 0)]

    def text(self) -> str:
        """What was kept, as text, marked ``[truncated]`` if more came."""
        text = self.data.decode(errors="replace")
        return text + "\n[truncated]" if self.truncated else text


@dataclass
class Finished:
    """How a child ended: its raw outcome, its prints, and whether we killed it."""

    outcome: Capture
    stdout: Capture
    stderr: Capture
    returncode: int | None = None
    timed_out: bool = False


async def _pipe_reader(fd: int) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_CHUNK)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(fd, "rb", buffering=0)
    )
    return reader, transport


async def _feed(stdin: asyncio.StreamWriter, job: bytes) -> None:
    # A child that dies before reading its job is reported by its missing outcome.
    with contextlib.suppress(ConnectionError):
        stdin.write(job)
        await stdin.drain()
        stdin.close()


def _children(pid: int) -> list[int]:
    try:
        return [
            int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        ]
    except (OSError, ValueError):
        return []


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Kill the child's group and reap the child."""
    if process.returncode is None:
        # Under bwrap the code runs in our child's child, the init of its PID
        # namespace. Killed first, it takes the namespace with it and is reaped by
        # bwrap, which then exits; killed together, it would be left to PID 1,
        # which in a container is the worker and never reaps it.
        for pid in _children(process.pid):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_REAP_SECONDS):
                await process.wait()
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    await process.wait()


async def run_child(
    launch: Launch,
    *,
    job: dict[str, Any],
    env: dict[str, str],
    cwd: Path,
    time_limit: float,
    max_outcome_bytes: int,
    max_log_bytes: int,
) -> Finished:
    """Run ``launch`` with ``job`` (plus ``result_fd``) as JSON on stdin.

    Returns when the child has exited and its pipes are drained, or when
    ``time_limit`` seconds have passed and its group is killed. Cancelling the
    caller kills the group too.
    """
    result_read, result_write = os.pipe()
    try:
        process = await asyncio.create_subprocess_exec(
            *launch.command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            pass_fds=(result_write, *launch.pass_fds),
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
    except BaseException:
        os.close(result_read)
        launch.close()
        raise
    finally:
        # Only the child may hold the write end, so the read end ends with it.
        os.close(result_write)
        launch.spawned()
    finished = Finished(Capture(max_outcome_bytes), Capture(max_log_bytes), Capture(max_log_bytes))
    result, transport = await _pipe_reader(result_read)
    assert process.stdin and process.stdout and process.stderr
    tasks = [
        asyncio.create_task(
            _feed(process.stdin, json.dumps({**job, "result_fd": result_write}).encode())
        ),
        asyncio.create_task(finished.outcome.drain(result)),
        asyncio.create_task(finished.stdout.drain(process.stdout)),
        asyncio.create_task(finished.stderr.drain(process.stderr)),
    ]
    try:
        async with asyncio.timeout(time_limit):
            await launch.ready()
            await asyncio.gather(*tasks)
            finished.returncode = await process.wait()
    except TimeoutError:
        finished.timed_out = True
    finally:
        # Shielded: a cancelled caller must still leave no process behind.
        await asyncio.shield(_stop(process))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        transport.close()
        launch.close()
    return finished
