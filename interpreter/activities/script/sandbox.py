"""Where a ``script`` node's child process runs: namespaces, environment, command.

With ``unshare`` (util-linux) the child gets its own network namespace (no
interface but a downed loopback: no network at all) and its own PID namespace
with a private ``/proc``, so it can see neither the worker's process nor its
environment. A user namespace comes first: it lets an unprivileged worker
create the others, and its process may not read the memory or environment of
any process outside it. A worker running as root can do without it.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

RUNNER = Path(__file__).with_name("runner.py")

_NAMESPACES = ("--net", "--pid", "--fork", "--kill-child", "--mount-proc")
_CANDIDATES = (("--user", "--map-root-user", *_NAMESPACES), _NAMESPACES)
_PROBE_SECONDS = 10.0


@dataclass(frozen=True)
class ScriptIsolation:
    """How children are isolated: ``prefix`` goes before the Python command.

    Attributes:
        prefix: ``unshare ...`` arguments, or empty when isolation is unavailable.
        reason: Why isolation is unavailable; empty when it is available.
    """

    prefix: tuple[str, ...]
    reason: str = ""

    @property
    def available(self) -> bool:
        """Whether children run isolated; ``reason`` says why not."""
        return bool(self.prefix)


def child_environment(workdir: Path) -> dict[str, str]:
    """The whole environment of a child: nothing of the worker's (secrets live there)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def python_command(isolation: ScriptIsolation) -> list[str]:
    """The command that starts the runner in a child, behind the isolation prefix.

    ``-I``: no environment variables, user site or script directory on the path;
    ``-S``: no site-packages (the code gets the standard library only);
    ``-B``: no bytecode written next to the standard library.
    """
    return [*isolation.prefix, sys.executable, "-I", "-S", "-B", str(RUNNER)]


async def _works(command: list[str], workdir: Path) -> str:
    """Empty if ``command`` exits 0, else what it said."""
    process = await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=child_environment(workdir),
        cwd=workdir,
    )
    try:
        async with asyncio.timeout(_PROBE_SECONDS):
            _, stderr = await process.communicate()
    except TimeoutError:
        process.kill()
        await process.wait()
        return f"no answer within {_PROBE_SECONDS:g}s"
    if process.returncode == 0:
        return ""
    return stderr.decode(errors="replace").strip() or f"exit status {process.returncode}"


async def probe_isolation(workdir: Path) -> ScriptIsolation:
    """The strongest isolation this machine allows, found by trying each in turn."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return ScriptIsolation((), "the unshare command (util-linux) is not installed")
    reasons = []
    for options in _CANDIDATES:
        prefix = (unshare, *options, "--")
        reason = await _works([*prefix, sys.executable, "-I", "-S", "-c", "pass"], workdir)
        if not reason:
            return ScriptIsolation(prefix)
        reasons.append(f"{' '.join(options)}: {reason}")
    return ScriptIsolation((), "unshare failed (" + "; ".join(reasons) + ")")
