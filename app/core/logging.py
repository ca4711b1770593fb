"""The API's logs (``interpreter.logs``), each line carrying the id of its request."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from interpreter.logs import configure_logging as configure_json_logging

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Stamps records with the current request's id while still in the request's context."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Stamp the record with the request's id unless it carries one; keeps every record."""
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


def configure_logging(level: str, log_format: str = "json", colour: str = "auto") -> None:
    """Send the root logger's records to stderr at ``level``, as ``log_format`` lines."""
    configure_json_logging(level, RequestIdFilter(), log_format=log_format, colour=colour)
