"""The ``script`` node: the user's Python ``main(input)`` in a sandboxed child process.

The child is a fresh ``python -I -S`` with none of the worker's environment, in
a bubblewrap sandbox (see :mod:`interpreter.activities.script.sandbox`): its
own user, mount, PID and network namespaces, a filesystem of the interpreter
alone plus a private temporary directory, and kernel limits on processes,
memory, CPU time, open files and file size (see
:mod:`interpreter.activities.script.runner`). The worker kills it at the
node's timeout and when the activity is cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from temporalio import activity

from interpreter.activities.base import ActivityRequest, node_activity
from interpreter.activities.script.config import ScriptConfig
from interpreter.activities.script.outcome import read_outcome
from interpreter.activities.script.process import Finished, run_child
from interpreter.activities.script.sandbox import (
    ISOLATION_SETTING,
    Sandbox,
    SandboxMissing,
    ScriptIsolation,
    child_environment,
    configured_sandbox,
    find_bwrap,
    unusable,
)
from interpreter.activities.validate.violations import failure, schema_violations
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.node_config import config_error, parse_config
from interpreter.errors import ConfigError, SandboxUnavailable

log = logging.getLogger(__name__)

MIB = 1024 * 1024
_TRIAL = "def main(input):\n    return input\n"
_TRIAL_SECONDS = 20.0


@dataclass(frozen=True)
class ScriptSettings:
    """Worker-wide limits of the ``script`` node.

    Attributes:
        default_timeout: Seconds a script may run when its node sets no ``timeout``.
        max_timeout: The longest ``timeout`` a node may ask for.
        default_memory_mb: Memory limit when the node sets no ``memory_mb``.
        max_memory_mb: The largest ``memory_mb`` a node may ask for.
        max_output_bytes: Largest JSON result ``main`` may return (it becomes
            the node's output, which must fit a Temporal payload).
        max_log_bytes: What is kept of each of stdout and stderr, for errors.
        max_file_bytes: Largest file the script may write in its directory.
        max_workdir_bytes: All the script may keep in its directory (a tmpfs).
        max_open_files: Open file descriptors the script may hold.
        max_processes: Processes and threads the script may run at once, its
            own included.
        isolation: ``bwrap`` (every script sandboxed, or failing with
            ``SandboxUnavailable``) or ``none`` (no isolation at all).
        bwrap: The bubblewrap executable, a name on ``PATH`` or a path.
    """

    default_timeout: float = 10.0
    max_timeout: float = 300.0
    default_memory_mb: int = 256
    max_memory_mb: int = 2048
    max_output_bytes: int = MIB
    max_log_bytes: int = 64 * 1024
    max_file_bytes: int = 16 * MIB
    max_workdir_bytes: int = 64 * MIB
    max_open_files: int = 64
    max_processes: int = 16
    isolation: ScriptIsolation = "bwrap"
    bwrap: str = "bwrap"


class ScriptActivity:
    """See :meth:`script`.

    Args:
        settings: Worker-wide limits and the isolation to use.
    """

    def __init__(self, settings: ScriptSettings | None = None) -> None:
        self._settings = settings or ScriptSettings()
        self._sandbox: Sandbox | SandboxMissing | None = None
        self._probing = asyncio.Lock()
        if self._settings.isolation == "none":
            log.warning(
                "%s=none: script nodes run WITHOUT ANY ISOLATION; their code can read every "
                "file, key and environment variable this worker can and reach its network; "
                "use this only for trusted code",
                ISOLATION_SETTING,
            )
        else:
            try:
                find_bwrap(self._settings.bwrap)
            except SandboxMissing as missing:
                log.error("script nodes will fail with SandboxUnavailable: %s", missing)

    async def sandbox(self) -> Sandbox:
        """How this worker isolates scripts, tried once on first use.

        Raises:
            SandboxMissing: isolation is asked for and cannot be had here.
        """
        async with self._probing:
            if self._sandbox is None:
                self._sandbox = await self._try_sandbox()
            if isinstance(self._sandbox, SandboxMissing):
                raise self._sandbox
            return self._sandbox

    async def _try_sandbox(self) -> Sandbox | SandboxMissing:
        try:
            sandbox = configured_sandbox(self._settings.isolation, self._settings.bwrap)
        except SandboxMissing as missing:
            return missing
        if not sandbox.isolated:
            return sandbox
        finished = await self._run(sandbox, _TRIAL, "ok", time_limit=_TRIAL_SECONDS, memory_mb=256)
        if finished.outcome.data == b'{"kind":"ok","result":"ok"}':
            return sandbox
        detail = finished.stderr.text().strip() or f"exit status {finished.returncode}"
        return unusable(detail)

    @activity.defn(name="script")
    @node_activity
    async def script(self, request: ActivityRequest) -> Any:
        """Run the node's ``main(input)``; output whatever it returns."""
        config = parse_config(ScriptConfig, request.config, request.node_id)
        timeout = self._timeout(config, request.node_id)
        memory_mb = self._memory_mb(config, request.node_id)
        try:
            sandbox = await self.sandbox()
        except SandboxMissing as missing:
            raise SandboxUnavailable(
                f"node {request.node_id!r}: {missing}", details={"reason": str(missing)}
            ) from None
        code = _pinned_code(config, request.node_id)
        _check(config.input_schema, config.input, f"plugin {config.plugin} input")
        finished = await self._run(
            sandbox, code, config.input, time_limit=timeout, memory_mb=memory_mb
        )
        result = read_outcome(
            finished,
            node_id=request.node_id,
            timeout=timeout,
            memory_mb=memory_mb,
            max_output_bytes=self._settings.max_output_bytes,
        )
        _check(config.output_schema, result, f"plugin {config.plugin} output")
        return result

    async def _run(
        self, sandbox: Sandbox, code: str, data: Any, *, time_limit: float, memory_mb: int
    ) -> Finished:
        workdir = Path(tempfile.mkdtemp(prefix="flowforge-script-"))
        launch = sandbox.launch(workdir, workdir_bytes=self._settings.max_workdir_bytes)
        job = {
            "code": code,
            "input": data,
            "sandbox_uid": launch.sandbox_uid,
            "limits": {
                "memory_bytes": memory_mb * MIB,
                "cpu_seconds": math.ceil(time_limit) + 1,
                "max_files": self._settings.max_open_files,
                "max_file_bytes": self._settings.max_file_bytes,
                "max_processes": self._settings.max_processes + launch.extra_processes,
            },
        }
        try:
            return await run_child(
                launch,
                job=job,
                env=child_environment(workdir),
                cwd=workdir,
                time_limit=time_limit,
                # Room for the outcome's envelope around the result itself.
                max_outcome_bytes=self._settings.max_output_bytes + 1024,
                max_log_bytes=self._settings.max_log_bytes,
            )
        finally:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, workdir, True))

    def _timeout(self, config: ScriptConfig, node_id: str) -> float:
        if config.timeout is None:
            timeout = self._settings.default_timeout
        else:
            timeout = parse_duration(config.timeout).total_seconds()
            if timeout <= 0:
                raise config_error(node_id, "config.timeout", "must be longer than 0s")
            if timeout > self._settings.max_timeout:
                raise config_error(
                    node_id,
                    "config.timeout",
                    f"{config.timeout} is over this worker's limit of "
                    f"{self._settings.max_timeout:g}s",
                )
        node_timeout = activity.info().start_to_close_timeout
        if node_timeout:
            # A second early, so the script's own (final) timeout is what the run
            # reports rather than Temporal's activity timeout, which is retried.
            timeout = min(timeout, max(node_timeout.total_seconds() - 1.0, 0.5))
        return timeout

    def _memory_mb(self, config: ScriptConfig, node_id: str) -> int:
        memory_mb = config.memory_mb or self._settings.default_memory_mb
        if memory_mb > self._settings.max_memory_mb:
            raise config_error(
                node_id,
                "config.memory_mb",
                f"{memory_mb} is over this worker's limit of {self._settings.max_memory_mb}",
            )
        return memory_mb


def _pinned_code(config: ScriptConfig, node_id: str) -> str:
    """The code to run: inline, or the plugin's as pinned when the run started.

    Raises:
        ConfigError: a plugin named but never pinned (a run not started by the API).
    """
    if config.code is None:
        raise ConfigError(
            f"node {node_id!r}: plugin {config.plugin} was not resolved when the run started; "
            "start runs through the API, which pins each plugin's code into the run"
        )
    return config.code


def _check(schema: dict[str, Any] | None, value: Any, subject: str) -> None:
    """Raise the node's ValidationFailed unless ``value`` matches ``schema`` (if any)."""
    if schema is None:
        return
    violations = schema_violations(schema, value)
    if violations:
        raise failure(violations, subject)
