"""Runs a ``script`` node's code inside the sandboxed child process.

The worker starts this file's source as ``python -I -S -B -c``, so it may
import only the standard library. It reads ``{code, input, limits,
sandbox_uid, result_fd}`` as JSON on stdin, becomes the sandbox user if asked,
closes every inherited descriptor but its own, lowers its limits, gives up
every capability, runs ``main(input)`` and writes one JSON outcome to ``result_fd``:
``{"kind": "ok", "result": ...}``, or ``kind`` ``exception`` (with ``type``,
``message``, ``traceback``), ``no_main``, ``not_json``, ``memory`` or
``timeout``. The user's prints go to stdout and stderr, never to the outcome.
"""

from __future__ import annotations

import builtins
import contextlib
import ctypes
import json
import linecache
import os
import resource
import signal
import sys
import traceback
from types import FrameType
from typing import Any

SCRIPT = "<script>"
_PR_SET_NO_NEW_PRIVS = 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


class CpuTimeExceeded(BaseException):
    """Raised on SIGXCPU; a BaseException so a user's ``except Exception`` can't swallow it."""


def _on_cpu_limit(signum: int, frame: FrameType | None) -> None:
    raise CpuTimeExceeded


def limit(limits: dict[str, int]) -> None:
    """Lower this process's limits; soft and hard alike, so the code can't raise them."""
    cpu = limits["cpu_seconds"]
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"],) * 2)
    # The soft limit sends SIGXCPU (reported as a timeout); the hard one, a second
    # later, SIGKILLs code stuck in C where the handler cannot run.
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["max_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_file_bytes"],) * 2)
    # Counted per user (in the sandbox, per user namespace); the kernel exempts
    # root, which is why the sandbox runs the code as its own unprivileged user.
    processes = limits["max_processes"]
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    signal.signal(signal.SIGXCPU, _on_cpu_limit)


def become(uid: int) -> None:
    """Drop from the sandbox's root to ``uid`` for good (real, effective and saved).

    The kernel clears every capability on the way, and ``RLIMIT_NPROC``,
    which does not hold for root, holds from then on.
    """
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def close_inherited(keep: int) -> None:
    """Close every descriptor past stdin, stdout and stderr but ``keep``."""
    top = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    top = top if 0 < top < 1 << 20 else 1 << 16
    os.closerange(3, keep)
    os.closerange(keep + 1, top)


def drop_privileges() -> None:
    """Give up every capability and the right to gain any through exec.

    Whatever capability the sandbox left (or the worker had, unisolated), the
    code gets none: it could otherwise remount what the sandbox mounted, or
    raise its own limits.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    if libc.capset(header, data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


def _user_frames(error: traceback.TracebackException) -> None:
    error.stack = traceback.StackSummary.from_list(
        [frame for frame in error.stack if frame.filename == SCRIPT]
    )
    for linked in (error.__cause__, error.__context__):
        if linked is not None:
            _user_frames(linked)


def describe(exc: BaseException) -> dict[str, Any]:
    """The exception with a traceback of the user's frames only."""
    summary = traceback.TracebackException.from_exception(exc)
    _user_frames(summary)
    return {
        "kind": "exception",
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(summary.format()),
    }


def run(code: str, data: Any) -> dict[str, Any]:
    """Run ``main(data)``; MemoryError and CpuTimeExceeded propagate."""
    # Registered so tracebacks quote the user's lines.
    linecache.cache[SCRIPT] = (len(code), None, code.splitlines(keepends=True), SCRIPT)
    namespace: dict[str, Any] = {"__name__": "__script__", "__builtins__": builtins}
    try:
        exec(compile(code, SCRIPT, "exec"), namespace)
        main = namespace.get("main")
        if not callable(main):
            return {"kind": "no_main"}
        result = main(data)
    except (MemoryError, CpuTimeExceeded):
        raise
    except BaseException as exc:
        return describe(exc)
    try:
        text = json.dumps(result, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        return {"kind": "not_json", "message": f"{type(exc).__name__}: {exc}"}
    return {"kind": "ok", "result_json": text}


def outcome_bytes(outcome: dict[str, Any]) -> bytes:
    """The outcome as the JSON text the worker reads from ``result_fd``."""
    if outcome["kind"] == "ok":
        # The result is already JSON text: splice it in rather than parse it back.
        text: str = '{"kind":"ok","result":' + outcome["result_json"] + "}"
    else:
        text = json.dumps(outcome)
    return text.encode()


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to ``fd``, however many writes it takes."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def main() -> None:
    """Read the job on stdin, lock this process down, run the code and write its outcome."""
    job = json.loads(sys.stdin.buffer.read())
    result_fd = int(job["result_fd"])
    # The user's code gets no handle on the channel its outcome travels through.
    os.set_inheritable(result_fd, False)
    if job.get("sandbox_uid") is not None:
        become(int(job["sandbox_uid"]))
    close_inherited(result_fd)
    limit(job["limits"])
    drop_privileges()
    try:
        outcome = run(job["code"], job["input"])
    except MemoryError:
        outcome = {"kind": "memory"}
    except CpuTimeExceeded:
        outcome = {"kind": "timeout"}
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    write_all(result_fd, outcome_bytes(outcome))


if __name__ == "__main__":
    main()
