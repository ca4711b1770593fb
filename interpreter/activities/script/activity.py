"""The ``script`` node: the user's Python ``main(input)`` in a sandboxed child process.

The child is a fresh ``python -I -S`` with none of the worker's environment,
a temporary working directory removed afterwards, its own network and PID
namespaces where the machine allows (see :mod:`script_sandbox`), and kernel
limits on memory, CPU time, open files, file size and new processes (see
:mod:`interpreter.activities.script.runner`). The worker kills it at the node's timeout and when the
activity is cancelled.
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
from interpreter.activities.script.process import run_child
from interpreter.activities.script.sandbox import (
    ScriptIsolation,
    child_environment,
    probe_isolation,
    python_command,
)
from interpreter.dsl.durations import parse_duration
from interpreter.dsl.node_config import config_error, parse_config
from interpreter.errors import ScriptError

log = logging.getLogger(__name__)

MIB = 1024 * 1024


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
        max_open_files: Open file descriptors the script may hold.
        require_network_isolation: Refuse to run scripts when the machine
            cannot give them their own network and PID namespaces, instead of
            running them with a warning.
    """

    default_timeout: float = 10.0
    max_timeout: float = 300.0
    default_memory_mb: int = 256
    max_memory_mb: int = 2048
    max_output_bytes: int = MIB
    max_log_bytes: int = 64 * 1024
    max_file_bytes: int = 16 * MIB
    max_open_files: int = 64
    require_network_isolation: bool = False


class ScriptActivity:
    """See :meth:`script`.

    Args:
        settings: Worker-wide limits.
        isolation: How to isolate children; probed on first use if None.
    """

    def __init__(
        self, settings: ScriptSettings | None = None, *, isolation: ScriptIsolation | None = None
    ) -> None:
        self._settings = settings or ScriptSettings()
        self._isolation = isolation
        self._probing = asyncio.Lock()

    async def isolation(self) -> ScriptIsolation:
        """How this worker isolates scripts, probed on first use.

        A worker may call it at start-up, to log the outcome or refuse early.
        """
        async with self._probing:
            if self._isolation is None:
                with tempfile.TemporaryDirectory(prefix="flowforge-probe-") as workdir:
                    self._isolation = await probe_isolation(Path(workdir))
                if not self._isolation.available:
                    log.warning(
                        "script nodes run WITHOUT network and process isolation: %s; set "
                        "FLOWFORGE_SCRIPT_REQUIRE_NETWORK_ISOLATION=true to refuse them instead",
                        self._isolation.reason,
                    )
            return self._isolation

    @activity.defn(name="script")
    @node_activity
    async def script(self, request: ActivityRequest) -> Any:
        """Run the node's ``main(input)``; output whatever it returns."""
        config = parse_config(ScriptConfig, request.config, request.node_id)
        timeout = self._timeout(config, request.node_id)
        memory_mb = self._memory_mb(config, request.node_id)
        isolation = await self.isolation()
        if not isolation.available and self._settings.require_network_isolation:
            raise ScriptError(
                f"node {request.node_id!r}: this worker requires isolated scripts but cannot "
                f"isolate them ({isolation.reason})",
                details={"reason": isolation.reason},
            )
        job = {
            "code": config.code,
            "input": config.input,
            "limits": {
                "memory_bytes": memory_mb * MIB,
                "cpu_seconds": math.ceil(timeout) + 1,
                "max_files": self._settings.max_open_files,
                "max_file_bytes": self._settings.max_file_bytes,
            },
        }
        workdir = Path(tempfile.mkdtemp(prefix="flowforge-script-"))
        try:
            finished = await run_child(
                python_command(isolation),
                job=job,
                env=child_environment(workdir),
                cwd=workdir,
                time_limit=timeout,
                # Room for the outcome's envelope around the result itself.
                max_outcome_bytes=self._settings.max_output_bytes + 1024,
                max_log_bytes=self._settings.max_log_bytes,
            )
        finally:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, workdir, True))
        return read_outcome(
            finished,
            node_id=request.node_id,
            timeout=timeout,
            memory_mb=memory_mb,
            max_output_bytes=self._settings.max_output_bytes,
        )

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
