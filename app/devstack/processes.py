"""Child processes of the dev stack: own process group, prefixed logs, clean stop.

Every child runs in a session of its own so that Ctrl-C in the terminal reaches
only the supervisor, which then stops the children in dependency order. On
Linux each child also asks the kernel for a signal when the supervisor dies, so
even ``kill -9`` of the supervisor leaves no orphans behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True) if sys.platform == "linux" else None
_LINE_LIMIT = 1 << 20


def die_with_parent(sig: signal.Signals) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the kernel send ``sig`` to the child when we die.

    Linux ties this to the thread that forks, so spawn from a long-lived thread
    (the main thread). Returns None where the kernel has no such feature.
    """
    if _libc is None:
        return None
    libc = _libc
    parent = os.getpid()

    def arm() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return arm


def signal_group(pid: int, sig: signal.Signals) -> None:
    """Send ``sig`` to the process group led by ``pid``; a group already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def echo(name: str, text: str) -> None:
    """Print one line of the dev stack's output, prefixed with who said it."""
    sys.stdout.write(f"{name:<9}| {text.rstrip()}\n")
    sys.stdout.flush()


@dataclass
class Child:
    """A running child process whose merged stdout/stderr is forwarded line by line.

    Attributes:
        name: Short label used as the log prefix and in error messages.
        process: The asyncio process handle.
        muted: When True, further output is dropped (set while stopping a child
            whose shutdown chatter would only confuse).
    """

    name: str
    process: asyncio.subprocess.Process
    muted: bool = False
    _pump: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        """The child's process id, also its process group's (it leads a session of its own)."""
        return self.process.pid

    async def _forward(self) -> None:
        stream = self.process.stdout
        if stream is None:
            return
        while True:
            try:
                line = await stream.readline()
            except ValueError:  # a line past the limit: skip it, keep forwarding
                continue
            if not line:
                return
            if not self.muted:
                echo(self.name, line.decode(errors="replace"))

    async def stop(self, grace: float) -> int:
        """SIGTERM the child's group, SIGKILL it after ``grace`` seconds; return the exit code.

        Whatever else is left in the group (grandchildren) is killed too.
        """
        if self.process.returncode is None:
            signal_group(self.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), grace)
            except TimeoutError:
                echo(self.name, f"did not stop within {grace:g} s; killing it")
                signal_group(self.pid, signal.SIGKILL)
        code = await self.process.wait()
        signal_group(self.pid, signal.SIGKILL)
        if self._pump is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._pump, 1.0)
        return code


async def spawn(name: str, argv: Sequence[str], env: Mapping[str, str]) -> Child:
    """Start ``argv`` as a child in its own session and forward its output."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,
        preexec_fn=die_with_parent(signal.SIGTERM),
        limit=_LINE_LIMIT,
    )
    child = Child(name, process)
    child._pump = asyncio.create_task(child._forward())
    return child
