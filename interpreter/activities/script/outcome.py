"""Turn how a ``script`` child ended into the node's output or its error."""

from __future__ import annotations

import json
from typing import Any

from interpreter.activities.script.process import Finished
from interpreter.errors import ScriptError, ScriptMemoryExceeded, ScriptTimeout

_OK_ENVELOPE = b'{"kind":"ok","result":}'


def _details(finished: Finished, **extra: Any) -> dict[str, Any]:
    return {"stdout": finished.stdout.text(), "stderr": finished.stderr.text(), **extra}


def read_outcome(
    finished: Finished, *, node_id: str, timeout: float, memory_mb: int, max_output_bytes: int
) -> Any:
    """What ``main`` returned.

    Raises:
        ScriptTimeout: the script ran past ``timeout`` (wall clock or CPU time).
        ScriptMemoryExceeded: it needed more than ``memory_mb``.
        ScriptError: it raised, defined no ``main``, returned something that
            is not JSON or over ``max_output_bytes``, or died without a word.
    """
    node = f"node {node_id!r}"
    if finished.timed_out:
        raise _timeout(node, finished, timeout)
    if finished.outcome.truncated:
        raise _too_large(node, finished, max_output_bytes)
    if not finished.outcome.data:
        raise ScriptError(
            f"{node}: the script process ended without a result (exit status "
            f"{finished.returncode}); see stderr in the details",
            details=_details(finished, exit_status=finished.returncode),
        )
    try:
        outcome = json.loads(finished.outcome.data)
        kind = outcome["kind"]
    except (ValueError, TypeError, KeyError):
        # Only a forked copy of the runner, or code writing to the outcome's
        # pipe, can garble it.
        raise ScriptError(
            f"{node}: the script's result could not be read; do not fork or write to "
            "inherited file descriptors",
            details=_details(finished),
        ) from None
    if kind == "ok":
        if len(finished.outcome.data) - len(_OK_ENVELOPE) > max_output_bytes:
            raise _too_large(node, finished, max_output_bytes)
        return outcome["result"]
    if kind == "timeout":
        raise _timeout(node, finished, timeout)
    if kind == "memory":
        raise ScriptMemoryExceeded(
            f"{node}: the script needed more than memory_mb={memory_mb} MiB; use less "
            "memory or raise memory_mb",
            details=_details(finished, memory_mb=memory_mb),
        )
    if kind == "no_main":
        raise ScriptError(
            f"{node}: config.code must define a function main(input)",
            details=_details(finished),
        )
    if kind == "not_json":
        raise ScriptError(
            f"{node}: main returned a value that is not JSON ({outcome['message']}); return "
            "dicts, lists, strings, numbers, booleans or None",
            details=_details(finished),
        )
    raise ScriptError(
        f"{node}: main raised {outcome['type']}: {outcome['message']}\n{outcome['traceback']}",
        details=_details(finished, type=outcome["type"], traceback=outcome["traceback"]),
    )


def _timeout(node: str, finished: Finished, timeout: float) -> ScriptTimeout:
    return ScriptTimeout(
        f"{node}: the script ran longer than its timeout of {timeout:g}s and was stopped",
        details=_details(finished, timeout=timeout),
    )


def _too_large(node: str, finished: Finished, max_output_bytes: int) -> ScriptError:
    return ScriptError(
        f"{node}: main returned more than {max_output_bytes} bytes of JSON; return less "
        "(the output is kept in the run's history)",
        details=_details(finished, max_output_bytes=max_output_bytes),
    )
