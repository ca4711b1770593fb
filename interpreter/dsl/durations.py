"""Duration strings of the DSL: ``"500ms"``, ``"30s"``, ``"5m"``, ``"2h"``, ``"1d"``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")


def parse_duration(text: str) -> timedelta:
    """Parse a DSL duration.

    Raises:
        ValueError: the text is not ``<number><unit>`` with unit ms, s, m, h or d,
            or is longer than a timedelta can hold (about 2.7 million years).
    """
    shown = text if len(text) <= 40 else text[:37] + "..."
    match = _PATTERN.match(text)
    if match is None:
        raise ValueError(
            f"bad duration {shown!r}: use a number and a unit (ms, s, m, h, d), e.g. '30s'"
        )
    try:
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    except OverflowError:
        raise ValueError(f"bad duration {shown!r}: too long") from None


def _check(text: str) -> str:
    parse_duration(text)
    return text


Duration = Annotated[str, AfterValidator(_check)]
"""A duration kept as the user wrote it (so definitions round-trip unchanged)."""
