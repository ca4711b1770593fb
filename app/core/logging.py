"""The API's logs (``interpreter.logs``), each line carrying the id of its request."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar

from interpreter.logs import configure_logging as configure_json_logging
from interpreter.logs import stamp_trace_id

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamps records with the current request's id (and trace id, while tracing)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the record with the request's id unless it carries one; keeps every record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        stamp_trace_id(record)
        return True


def configure_logging(
    level: str,
    log_format: str = "json",
    colour: str = "auto",
    levels: Mapping[str, str] | None = None,
) -> None:
    """Send the root logger's records to stderr at ``level``, as ``log_format`` lines.

    ``levels`` sets single loggers' own levels (``FLOWFORGE_LOG_LEVELS``).
    """
    configure_json_logging(
        level, RequestIdFilter(), log_format=log_format, colour=colour, levels=levels
    )
