"""Declared ``triggers``: each one takes effect, or is refused at save with what to do instead.

``event`` triggers start a run for every matching ``POST /events``; ``manual``
says the workflow is started by hand (the API or the dashboard), which every
workflow may be anyway. Schedules and webhooks are objects of their own with
their own lifecycle (pause, rotate a secret, delete), so a definition that
declares one is refused with the call that creates it, rather than accepted
and ignored.
"""

from __future__ import annotations

from typing import Any

from interpreter.validation.hints import type_hint
from interpreter.validation.issues import ValidationIssue

_ELSEWHERE = {
    "schedule": "create the schedule with POST /workflows/{id}/schedules "
    '{"cron": "*/5 * * * *"} (or `flowforge schedules create`)',
    "cron": "create a schedule with POST /workflows/{id}/schedules",
    "webhook": "create the hook with POST /workflows/{id}/webhooks (or `flowforge hooks create`)",
}
KNOWN = ("event", "manual")


def trigger_issues(raw: Any) -> list[ValidationIssue]:
    """The problems of a definition's ``triggers`` (its shape is checked elsewhere)."""
    issues: list[ValidationIssue] = []
    for index, trigger in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(trigger, dict) or not isinstance(trigger.get("type"), str):
            continue
        path, kind = f"/triggers/{index}", trigger["type"]
        if kind == "event":
            event = trigger.get("event")
            if not isinstance(event, str) or not event.strip():
                issues.append(
                    ValidationIssue(
                        path=f"{path}/event",
                        code="required",
                        message='an event trigger names its event type: {"type": "event", '
                        '"event": "lead.qualified"}',
                    )
                )
        elif kind in _ELSEWHERE:
            issues.append(
                ValidationIssue(
                    path=f"{path}/type",
                    code="unsupported_trigger",
                    message=f"a {kind} trigger is not declared in the definition: "
                    f"{_ELSEWHERE[kind]}",
                )
            )
        elif kind not in KNOWN:
            issues.append(
                ValidationIssue(
                    path=f"{path}/type",
                    code="unknown_type",
                    message=f"unknown trigger type {kind!r}; "
                    f"{type_hint(kind, KNOWN)}known: {', '.join(KNOWN)}",
                )
            )
    return issues
