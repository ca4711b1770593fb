"""Capturing log records as FlowForge's processes write them: one JSON object a line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from interpreter.logs import JsonFormatter, TemporalContextFilter


@contextmanager
def json_log_lines() -> Iterator[io.StringIO]:
    """Root logger records, formatted as a worker formats them, while the block runs."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(TemporalContextFilter())
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def json_records(stream: io.StringIO) -> list[dict[str, Any]]:
    """Every record written to ``stream`` so far, decoded."""
    return [json.loads(line) for line in stream.getvalue().splitlines()]
