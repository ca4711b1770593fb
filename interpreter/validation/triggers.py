"""Declared ``triggers``: each one takes effect, or is refused at save with what to do instead.

``event`` triggers start a run for every matching ``POST /events``, and, when
they name a ``subject``, for every message on that NATS JetStream subject; ``manual``
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
SUBJECT_MAX = 255
_SUBJECT_EXAMPLE = (
    '{"type": "event", "event": "lead.qualified", "subject": "flowforge.events.leads"}'
)


def subject_problem(subject: Any) -> str | None:
    """Why ``subject`` is not a literal NATS subject a trigger may listen on, or None.

    Wildcards are refused: one message would then start runs for whatever
    subjects match, and a redelivery's idempotency key is per message, not per
    trigger, so the set of runs must follow from the subject alone.
    """
    if not isinstance(subject, str):
        return f"a trigger's subject is a string, e.g. {_SUBJECT_EXAMPLE}"
    if not subject or len(subject) > SUBJECT_MAX:
        return f"a subject has 1 to {SUBJECT_MAX} characters"
    if not subject.isascii() or any(not 0x21 <= ord(c) <= 0x7E for c in subject):
        return f"subject {subject!r} may hold only visible ASCII characters (no spaces)"
    for token in subject.split("."):
        if not token:
            return f"subject {subject!r} has an empty token: tokens are separated by single dots"
        if token in ("*", ">") or "*" in token or ">" in token:
            return (
                f"subject {subject!r} has the wildcard {token!r}: a trigger listens on one "
                "literal subject"
            )
    return None


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
            if "subject" in trigger:
                problem = subject_problem(trigger["subject"])
                if problem is not None:
                    issues.append(
                        ValidationIssue(
                            path=f"{path}/subject", code="invalid_subject", message=problem
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
