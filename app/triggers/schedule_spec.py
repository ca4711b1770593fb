"""When a schedule fires: a cron expression or an interval, in a time zone.

Cron expressions have 5 fields (``minute hour day-of-month month day-of-week``)
or, as an extension, 6 with seconds first (``second minute hour ...``), which
Temporal's 7-field form (seconds first, year last) expresses exactly. Each
field takes ``*``, ``?``, numbers, names (``JAN``, ``MON``), ranges
``a-b``, steps ``/n`` and comma lists; Temporal checks the rest.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from temporalio.client import ScheduleIntervalSpec, ScheduleOverlapPolicy, ScheduleSpec

from interpreter.dsl.durations import parse_duration

Overlap = Literal[
    "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"
]

OVERLAP_POLICIES: dict[str, ScheduleOverlapPolicy] = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}
OVERLAP_NAMES = {policy: name for name, policy in OVERLAP_POLICIES.items()}

MIN_INTERVAL = timedelta(seconds=1)

_FIELD_NAMES = ("minute", "hour", "day-of-month", "month", "day-of-week")
_SECOND_FIELD = "second"
_BOUNDS = {
    "second": (0, 59),
    "minute": (0, 59),
    "hour": (0, 23),
    "day-of-month": (1, 31),
    "month": (1, 12),
    "day-of-week": (0, 7),
}
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_NAMES = {
    "month": {m: i + 1 for i, m in enumerate(_MONTHS)},
    "day-of-week": {d: i for i, d in enumerate(_DAYS)},
}
_ITEM = re.compile(r"^(?:(\*|\?)|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:/([0-9]+))?$")


def _value(field: str, text: str) -> int | None:
    names = _NAMES.get(field, {})
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        return None
    low, high = _BOUNDS[field]
    number = int(text)
    return number if low <= number <= high else None


def _field_problem(field: str, text: str) -> str | None:
    for item in text.split(","):
        match = _ITEM.match(item)
        if match is None:
            return f"{field} field {text!r}: {item!r} is not *, a value, a range or a step"
        _, start, end, step = match.groups()
        for value in (start, end):
            if value is not None and _value(field, value) is None:
                low, high = _BOUNDS[field]
                return f"{field} field {text!r}: {value!r} is not a {field} ({low}-{high})"
        if step is not None and int(step) == 0:
            return f"{field} field {text!r}: a step must be at least 1"
    return None


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a cron expression this API takes, or None."""
    fields = expression.split()
    if len(fields) == len(_FIELD_NAMES):
        names: tuple[str, ...] = _FIELD_NAMES
    elif len(fields) == len(_FIELD_NAMES) + 1:
        names = (_SECOND_FIELD, *_FIELD_NAMES)
    else:
        return (
            f"a cron expression has 5 fields (minute hour day-of-month month day-of-week) "
            f"or 6 with seconds first; {expression!r} has {len(fields)}"
        )
    for name, text in zip(names, fields, strict=True):
        problem = _field_problem(name, text)
        if problem is not None:
            return problem
    return None


def timezone_problem(name: str) -> str | None:
    """Why ``name`` is not an IANA time zone, or None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return f"{name!r} is not an IANA time zone name (e.g. UTC, Europe/Paris)"
    return None


def interval_problem(text: str) -> str | None:
    """Why ``text`` is not a usable interval (a duration of at least 1s), or None."""
    try:
        every = parse_duration(text)
    except ValueError as exc:
        return str(exc)
    if every < MIN_INTERVAL:
        return f"an interval must be at least 1s, not {text!r}"
    return None


_FIRES_CHECKED = 500
"""Next fire times of a cron expression compared against the shortest allowed interval."""
_DAYS_SEARCHED = 800
"""Days ahead searched for those fire times (a leap day included)."""


def _values(field: str, text: str) -> frozenset[int]:
    low, high = _BOUNDS[field]
    found: set[int] = set()
    for item in text.split(","):
        match = _ITEM.match(item)
        assert match is not None, "checked by cron_problem"
        every, start, end, step = match.groups()
        first = low if every else _value(field, start)
        last = high if every or (end is None and step is not None) else _value(field, end or start)
        assert first is not None and last is not None, "checked by cron_problem"
        found.update(range(first, last + 1, int(step or 1)))
    if field == "day-of-week" and 7 in found:
        found = (found - {7}) | {0}
    return frozenset(found)


def _fires(expression: str, start: datetime) -> Iterator[datetime]:
    """The fire times of a checked cron expression from ``start`` on (naive, local time)."""
    fields = expression.split()
    if len(fields) == len(_FIELD_NAMES):
        fields = ["0", *fields]
    names = (_SECOND_FIELD, *_FIELD_NAMES)
    sets = {name: _values(name, text) for name, text in zip(names, fields, strict=True)}
    # Cron's rule: with both day fields restricted, a day matching either one fires.
    dom_any, dow_any = (fields[3] in ("*", "?"), fields[5] in ("*", "?"))
    day = start.date()
    for _ in range(_DAYS_SEARCHED):
        by_dom = day.day in sets["day-of-month"]
        by_dow = (day.isoweekday() % 7) in sets["day-of-week"]
        either = by_dom or by_dow if not (dom_any or dow_any) else by_dom and by_dow
        if day.month in sets["month"] and either:
            yield from _fires_on(day, sets, start)
        day += timedelta(days=1)


def _fires_on(day: date, sets: dict[str, frozenset[int]], start: datetime) -> Iterator[datetime]:
    for hour in sorted(sets["hour"]):
        for minute in sorted(sets["minute"]):
            for second in sorted(sets["second"]):
                moment = datetime(day.year, day.month, day.day, hour, minute, second)
                if moment >= start:
                    yield moment


def shortest_cron_gap(expression: str, start: datetime) -> timedelta | None:
    """The shortest gap between the next fire times of a checked cron expression.

    None if it fires at most once in the time searched.
    """
    shortest: timedelta | None = None
    previous: datetime | None = None
    for count, moment in enumerate(_fires(expression, start)):
        if previous is not None and (shortest is None or moment - previous < shortest):
            shortest = moment - previous
        if count >= _FIRES_CHECKED:
            break
        previous = moment
    return shortest


def too_frequent(
    *, cron: str | None, interval: str | None, shortest: timedelta, now: datetime
) -> tuple[str, str] | None:
    """The field and the problem of a checked timing that fires more often than ``shortest``.

    Returns:
        None if the timing respects ``shortest``; else ``("interval" or
        "cron", message)``.
    """
    allowed = (
        f"the shortest allowed is {shortest.total_seconds():g}s "
        "(FLOWFORGE_QUOTA_MIN_SCHEDULE_INTERVAL)"
    )
    if interval is not None:
        if parse_duration(interval) < shortest:
            return "interval", f"an interval of {interval} fires too often: {allowed}"
        return None
    assert cron is not None
    gap = shortest_cron_gap(cron, now.replace(tzinfo=None, microsecond=0))
    if gap is not None and gap < shortest:
        return "cron", (
            f"{cron!r} fires {gap.total_seconds():g}s apart: {allowed}; "
            "use fewer minutes, hours or seconds"
        )
    return None


def temporal_spec(*, cron: str | None, interval: str | None, timezone: str) -> ScheduleSpec:
    """The Temporal spec of an already checked ``cron`` or ``interval``."""
    if interval is not None:
        return ScheduleSpec(
            intervals=[ScheduleIntervalSpec(every=parse_duration(interval))],
            time_zone_name=timezone,
        )
    assert cron is not None
    fields = cron.split()
    # Temporal reads 6 fields as ending with a year; seconds-first needs its 7-field form.
    expression = " ".join(fields) + (" *" if len(fields) == len(_FIELD_NAMES) + 1 else "")
    return ScheduleSpec(cron_expressions=[expression], time_zone_name=timezone)
