"""Log lines on stderr, one per record, the same for the API and the workers.

JSON by default (``FLOWFORGE_LOG_FORMAT=json``): a line is ``{"time", "level",
"logger", "message", ...}`` plus whatever the record carries besides: ``extra=``
values, the API's ``request_id``, and in a worker the run and node a record was
logged for (:class:`TemporalContextFilter`). ``console`` (what ``flowforge dev``
uses) is for people: ``12:00:01 WARNING logger: message  run=... node=...``,
coloured on a terminal, and an expected failure (an activity attempt that
failed with an application error, to be retried or not) is one line, not a traceback.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from temporalio import activity, workflow
from temporalio.exceptions import ApplicationError

from interpreter import tracing
from interpreter.contract import search_attributes

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}
# Core logs forwarded by the Temporal runtime carry their raw entry, whose
# fields the SDK already appends to the message.
_OMITTED = _STANDARD | {"temporal_log"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then any extras."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one JSON line; a traceback goes in ``exception``."""
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        payload.update(
            {k: v for k, v in vars(record).items() if k not in _OMITTED and v is not None}
        )
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


_COLOURS = {"DEBUG": "2", "INFO": "36", "WARNING": "33", "ERROR": "31", "CRITICAL": "1;31"}
_CONTEXT = (
    ("flowforge_run_id", "run"),
    ("flowforge_node_path", "node"),
    ("flowforge_workflow_id", "workflow"),
    ("request_id", "request"),
    ("trace_id", "trace"),
)


class ConsoleFormatter(logging.Formatter):
    """One short line per record for a person reading a terminal.

    Args:
        colour: Colour the level (ANSI escapes).
    """

    def __init__(self, colour: bool) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        """``time LEVEL logger: message  run=… node=…``, and a traceback if unexpected."""
        moment = datetime.fromtimestamp(record.created).strftime("%H:%M:%S")
        level = record.levelname
        if self.colour:
            level = f"\x1b[{_COLOURS.get(level, '0')}m{level}\x1b[0m"
        context = "  ".join(
            f"{label}={value}"
            for name, label in _CONTEXT
            if (value := getattr(record, name, None)) is not None
        )
        line = f"{moment} {level} {record.name}: {record.getMessage()}"
        line += f"  {context}" if context else ""
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if _expected(error):
                line += f"  ({_cause(error)})"
            else:
                line += "\n" + self.formatException(record.exc_info)
        return line


def _expected(error: BaseException) -> bool:
    """An activity's reported failure (an upstream 5xx, a timeout): nothing to debug here."""
    return isinstance(error, ApplicationError)


def _cause(error: BaseException) -> str:
    if isinstance(error, ApplicationError):
        return f"{error.type or 'ApplicationError'}: {error.message}"
    return f"{type(error).__name__}: {error}"


def _stamp(record: logging.LogRecord, **values: Any) -> None:
    # What the caller passed with ``extra=`` (the log node's ids) wins.
    for name, value in values.items():
        if getattr(record, name, None) is None:
            setattr(record, name, value)


def stamp_trace_id(record: logging.LogRecord) -> None:
    """Stamp ``trace_id`` (the current span's) while tracing is on; one flag read while off."""
    if tracing.enabled():
        _stamp(record, trace_id=tracing.current_trace_id())


class TemporalContextFilter(logging.Filter):
    """Stamps records logged in an activity or a workflow with the run they belong to.

    In a node activity: ``flowforge_run_id`` (the workflow id of the execution),
    ``flowforge_node_path`` (the activity id, e.g. ``enrich[3].profile``) and
    ``flowforge_node_id`` (its last part, ``profile``). In the workflow:
    ``flowforge_run_id`` and ``flowforge_workflow_id`` (the definition's id,
    from the run's search attributes). Both come from what the SDK already
    holds for the current task, so the filter costs no call. While tracing,
    ``trace_id`` too (the run's trace, see :mod:`interpreter.tracing`).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the record with its run (and node), if logged in one; keeps every record."""
        if activity.in_activity():
            task = activity.info()
            # Node ids have no dots: the last part of a node path is the node's id.
            _stamp(
                record,
                flowforge_run_id=task.workflow_id,
                flowforge_node_path=task.activity_id,
                flowforge_node_id=task.activity_id.rpartition(".")[2],
            )
        elif workflow.in_workflow():
            run = workflow.info()
            _stamp(
                record,
                flowforge_run_id=run.workflow_id,
                flowforge_workflow_id=run.typed_search_attributes.get(
                    search_attributes.WORKFLOW_ID
                ),
            )
        stamp_trace_id(record)
        return True


class _JsonHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler this module installed, so configuring twice adds nothing."""


def configure_logging(
    level: str,
    *filters: logging.Filter,
    log_format: str = "json",
    colour: str = "auto",
    levels: Mapping[str, str] | None = None,
) -> None:
    """Send the root logger's records, and Python's warnings, to stderr, one line each.

    Args:
        level: The least severe level written (``DEBUG`` ... ``ERROR``).
        filters: Filters that add fields to every record (the API's request id,
            the worker's :class:`TemporalContextFilter`); used the first time only.
        log_format: ``json`` (:class:`JsonFormatter`) or ``console``
            (:class:`ConsoleFormatter`).
        colour: For ``console``: ``always``, ``never``, or ``auto`` (when stderr is a terminal).
        levels: Levels of single loggers (``FLOWFORGE_LOG_LEVELS``), over ``level``.
    """
    root = logging.getLogger()
    if not any(isinstance(h, _JsonHandler) for h in root.handlers):
        handler = _JsonHandler(sys.stderr)
        for extra in filters:
            handler.addFilter(extra)
        if log_format == "console":
            coloured = colour == "always" or (colour == "auto" and sys.stderr.isatty())
            handler.setFormatter(ConsoleFormatter(coloured))
        else:
            handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    root.setLevel(level)
    for name, own in (levels or {}).items():
        logging.getLogger(name).setLevel(own)
    logging.captureWarnings(True)
