"""The API's JSON logs (``interpreter.logs``), each line carrying the id of its request."""

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


def configure_logging(level: str) -> None:
    """Send the root logger's records to stderr as JSON lines at ``level``."""
    configure_json_logging(level, RequestIdFilter())
