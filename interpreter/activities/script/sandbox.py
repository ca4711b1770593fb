"""Where a ``script`` node's child runs: a bubblewrap sandbox, or (by choice) none.

With ``bwrap`` the child gets its own user, mount, PID, network, IPC and UTS
namespaces. Its filesystem is an empty root holding only what the interpreter
needs, read-only (the executable, the standard library without site-packages,
the system libraries), a private ``/proc`` and ``/dev``, and one writable,
size-capped tmpfs as its working directory: none of the worker's files, keys
or databases, no ``/etc``. It has no network but a loopback of its own, and it
runs as :data:`SANDBOX_UID` without capabilities.

The kernel exempts root from ``RLIMIT_NPROC``, so a worker running as root
maps its own root and :data:`SANDBOX_UID` into the child's user namespace
itself (bwrap would map the sandbox user onto root) and the runner drops to
:data:`SANDBOX_UID` before it runs any code: the process limit then counts in
that namespace alone. A worker that is not root lets bwrap map the sandbox
user onto its own uid.

Isolation fails closed: where bwrap is missing or cannot build its sandbox,
script nodes fail with ``SandboxUnavailable``. Only ``isolation="none"``, an
operator's explicit choice, runs children without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import site
import sys
import sysconfig
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

RUNNER = Path(__file__).with_name("runner.py")

ScriptIsolation = Literal["bwrap", "none"]
"""``bwrap``: every child in a bubblewrap sandbox; ``none``: no isolation at all."""

SANDBOX_UID = 65534
"""The uid and gid scripts run as (``nobody``), never the worker's own."""

SYSTEM_LIBRARIES = ("/lib", "/lib64", "/lib32", "/libx32", "/usr/lib", "/usr/lib64", "/usr/lib32")
"""Where the dynamic loader finds the interpreter's shared libraries."""

HOSTNAME = "flowforge-script"
ISOLATION_SETTING = "FLOWFORGE_SCRIPT_ISOLATION"
BWRAP_SETTING = "FLOWFORGE_SCRIPT_BWRAP"


def child_environment(workdir: Path) -> dict[str, str]:
    """The whole environment of a child: nothing of the worker's (secrets live there)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def python_command() -> list[str]:
    """The command that starts the runner.

    ``-I``: no environment variables, user site or script directory on the path;
    ``-S``: no site-packages (the code gets the standard library only);
    ``-B``: no bytecode written next to the standard library. The runner's
    source travels on the command line, so the sandbox holds no file of FlowForge.
    """
    return [os.path.realpath(sys.executable), "-I", "-S", "-B", "-c", RUNNER.read_text()]


@dataclass(frozen=True)
class Interpreter:
    """What of the host's filesystem the sandbox shows, read-only.

    Attributes:
        binds: Host paths bound at the same place.
        links: Top-level symlinks recreated as they are (``/lib -> usr/lib``).
        hidden: Directories inside ``binds`` covered by an empty read-only tmpfs.
    """

    binds: tuple[str, ...]
    links: tuple[tuple[str, str], ...]
    hidden: tuple[str, ...]

    @classmethod
    def of_this_process(cls) -> Interpreter:
        """The executable, standard library and system libraries of ``sys.executable``."""
        wanted = [os.path.realpath(sys.executable)]
        # The base installation's, not a virtualenv's (whose packages are not for scripts).
        base = {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}
        paths = sysconfig.get_paths(vars=base)
        wanted += [os.path.realpath(paths[name]) for name in ("stdlib", "platstdlib")]
        if sysconfig.get_config_var("Py_ENABLE_SHARED"):
            libdir = str(sysconfig.get_config_var("LIBDIR"))
            soname = str(sysconfig.get_config_var("INSTSONAME"))
            wanted.append(os.path.realpath(os.path.join(libdir, soname)))
        links = []
        for path in SYSTEM_LIBRARIES:
            if os.path.islink(path):
                links.append((os.readlink(path), path))
            elif os.path.isdir(path):
                wanted.append(path)
        binds = _outermost(p for p in wanted if os.path.exists(p))
        site_dirs = {
            *site.getsitepackages([sys.base_prefix, sys.base_exec_prefix]),
            *(paths[name] for name in ("purelib", "platlib")),
        }
        hidden = sorted(
            os.path.realpath(d)
            for d in site_dirs
            if os.path.isdir(d) and any(_under(os.path.realpath(d), b) for b in binds)
        )
        return cls(binds, tuple(links), tuple(hidden))


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _outermost(paths: object) -> tuple[str, ...]:
    kept: list[str] = []
    for path in sorted(set(paths)):  # type: ignore[call-overload]
        if not any(_under(path, other) for other in kept):
            kept.append(path)
    return tuple(kept)


def _parents(path: str) -> list[str]:
    parts = Path(path).parents
    return [str(p) for p in reversed(parts) if str(p) != "/"]


@dataclass
class Launch:
    """One child's command line and what the worker does around its start.

    Attributes:
        command: The full command (sandbox prefix, then the interpreter).
        pass_fds: Descriptors the sandbox tool itself needs.
        sandbox_uid: The uid the runner drops to before any user code; None
            when the child already runs as the sandbox user or unisolated.
        extra_processes: Processes of the sandbox that count against the
            script's process limit (bubblewrap's own init).
    """

    command: list[str]
    pass_fds: tuple[int, ...] = ()
    sandbox_uid: int | None = None
    extra_processes: int = 0
    _info: int = -1
    _block: int = -1
    _child_ends: list[int] = field(default_factory=list)

    def spawned(self) -> None:
        """Close the descriptors only the child needed."""
        for fd in self._child_ends:
            os.close(fd)
        self._child_ends.clear()

    async def ready(self) -> None:
        """Let the child run; a root worker maps the sandbox's users first.

        Raises:
            OSError: the sandbox's user namespace could not be mapped.
        """
        if self._info >= 0:
            # The thread owns them now: it may outlive a cancelled await.
            info, block, self._info, self._block = self._info, self._block, -1, -1
            await asyncio.to_thread(_map_users, info, block)

    def close(self) -> None:
        """Close whatever the worker still holds."""
        self.spawned()
        for fd in (self._info, self._block):
            if fd >= 0:
                os.close(fd)
        self._info = self._block = -1


def _map_users(info: int, block: int) -> None:
    """Map the users of the sandbox bwrap reports on ``info``, then unblock it."""
    try:
        data = b""
        while chunk := os.read(info, 4096):
            data += chunk
        if not data:
            return  # bwrap ended before it made the namespace; its stderr says why.
        pid = int(json.loads(data)["child-pid"])
        # Root and the sandbox user, each onto itself: root to set the sandbox up (it
        # reads the interpreter wherever it lives), the sandbox user to run the code.
        users = f"0 0 1\n{SANDBOX_UID} {SANDBOX_UID} 1\n"
        Path(f"/proc/{pid}/uid_map").write_text(users)
        Path(f"/proc/{pid}/gid_map").write_text(users)
        with contextlib.suppress(BrokenPipeError):
            os.write(block, b"1")
    finally:
        os.close(info)
        os.close(block)


@dataclass(frozen=True)
class Sandbox:
    """How children are isolated on this worker.

    Attributes:
        bwrap: The bubblewrap executable; empty when children run unisolated.
        interpreter: What the sandbox shows of the host.
        as_root: Whether the worker is root (it then maps the sandbox's users).
    """

    bwrap: str = ""
    interpreter: Interpreter = field(default_factory=lambda: Interpreter((), (), ()))
    as_root: bool = False

    @property
    def isolated(self) -> bool:
        """Whether children run inside bubblewrap."""
        return bool(self.bwrap)

    def launch(self, workdir: Path, *, workdir_bytes: int) -> Launch:
        """The command that runs the runner in ``workdir``, sandboxed unless unisolated."""
        if not self.isolated:
            return Launch(python_command())
        prefix = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--die-with-parent",
            "--new-session",
            "--hostname",
            HOSTNAME,
        ]
        launch = Launch([])
        if self.as_root:
            info_read, info_write = os.pipe()
            block_read, block_write = os.pipe()
            launch = Launch(
                [],
                pass_fds=(info_write, block_read),
                sandbox_uid=SANDBOX_UID,
                _info=info_read,
                _block=block_write,
                _child_ends=[info_write, block_read],
            )
            prefix += ["--info-fd", str(info_write), "--userns-block-fd", str(block_read)]
            # Only what the runner needs to drop from root to the sandbox user.
            prefix += ["--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
            # The runner creates the workdir's files as the sandbox user after
            # mounting it as root: a sticky world-writable tmpfs nobody else sees.
            workdir_mode = "01777"
        else:
            launch.extra_processes = 1
            prefix += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
            prefix += ["--disable-userns", "--cap-drop", "ALL"]
            workdir_mode = "0700"
        made: set[str] = set()
        for target in (*self.interpreter.binds, *(link for _, link in self.interpreter.links)):
            for parent in _parents(target):
                if parent not in made:
                    made.add(parent)
                    # bwrap would create them 0700, unreadable for the sandbox user.
                    prefix += ["--perms", "0755", "--dir", parent]
        for source, link in self.interpreter.links:
            prefix += ["--symlink", source, link]
        for path in self.interpreter.binds:
            prefix += ["--ro-bind", path, path]
        for path in self.interpreter.hidden:
            prefix += ["--perms", "0555", "--tmpfs", path, "--remount-ro", path]
        prefix += ["--proc", "/proc", "--dev", "/dev"]
        for parent in _parents(str(workdir)):
            if parent not in made:
                made.add(parent)
                prefix += ["--perms", "0755", "--dir", parent]
        prefix += ["--perms", workdir_mode, "--size", str(workdir_bytes), "--tmpfs", str(workdir)]
        prefix += ["--chdir", str(workdir), "--remount-ro", "/", "--"]
        launch.command = [*prefix, *python_command()]
        return launch


class SandboxMissing(Exception):
    """Why this worker cannot sandbox scripts (the message says what to do)."""


def find_bwrap(bwrap: str) -> str:
    """The bubblewrap executable named by the setting.

    Raises:
        SandboxMissing: it is not installed or not where the setting says.
    """
    found = shutil.which(bwrap)
    if found is None:
        raise SandboxMissing(
            f"the script sandbox needs bubblewrap, and {BWRAP_SETTING}={bwrap!r} names no "
            f"executable on this worker; install bubblewrap (Debian: apt-get install "
            f"bubblewrap), point {BWRAP_SETTING} at it, or set {ISOLATION_SETTING}=none "
            "to run scripts without isolation (trusted code only)"
        )
    return found


def configured_sandbox(isolation: ScriptIsolation, bwrap: str) -> Sandbox:
    """The sandbox the settings ask for, not yet tried.

    Raises:
        SandboxMissing: ``bwrap`` is not installed.
    """
    if isolation == "none":
        return Sandbox()
    return Sandbox(find_bwrap(bwrap), Interpreter.of_this_process(), os.geteuid() == 0)


def unusable(detail: str) -> SandboxMissing:
    """The error of a sandbox bwrap could not build, with what the worker needs."""
    return SandboxMissing(
        f"the script sandbox (bubblewrap) does not work on this worker: {detail}; it needs "
        "user namespaces and the mount, unshare and pivot_root system calls (in Docker: "
        "security_opt seccomp=unconfined, apparmor=unconfined and systempaths=unconfined), "
        f"or set {ISOLATION_SETTING}=none to run scripts without isolation (trusted code only)"
    )
