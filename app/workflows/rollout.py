"""Rollouts: a candidate version takes a share of a workflow's new runs.

While a rollout is on, each run started on the active version (by the API,
a hook or an event) goes to the candidate with probability ``percent``; with
``sticky_by`` (a CEL expression over ``input``) the choice is a hash of its
value instead, so one customer always lands on the same arm, and raising the
percentage only moves more values over (a value's bucket never changes while
the candidate does not). Runs that name a version and reruns keep their
version. A schedule on the active version takes part too: its action carries
both arms and each run it starts picks its own (:mod:`app.triggers.schedule_rollout`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from app.db.models.workflow import Workflow
from app.errors import ErrorItem
from interpreter.contract.rollout import (
    CANDIDATE,
    STABLE,
    bucket,
    rollout_salt,
    sticky_value,
)
from interpreter.dsl.expressions import compile_expression, root_names
from interpreter.errors import ExpressionSyntaxError

__all__ = ["CANDIDATE", "ROLLOUT_TRIGGERS", "STABLE", "Arm", "choose_arm", "sticky_errors"]

ROLLOUT_TRIGGERS = frozenset({"api", "webhook", "event"})
"""What starts runs the API shares out itself: the starts that ask for the active version.
A schedule's runs are shared out by their workflow as each starts (see
:func:`app.triggers.schedule_rollout.with_rollout`)."""


@dataclass(frozen=True)
class Arm:
    """Where a run goes: its version, and the arm's name."""

    version: int
    name: str


def sticky_errors(expression: str | None, path: str = "/body/sticky_by") -> list[ErrorItem]:
    """Problems with a ``sticky_by`` expression: it must compile and read only ``input``."""
    if expression is None:
        return []
    try:
        compile_expression(expression)
    except ExpressionSyntaxError as exc:
        return [ErrorItem(path=path, code="bad_expression", message=str(exc))]
    others = sorted(root_names(expression) - {"input"})
    if others:
        message = f"sticky_by reads only the run's input, not {', '.join(others)}"
        return [ErrorItem(path=path, code="unknown_name", message=message)]
    return []


def _bucket(workflow: Workflow, value: Any) -> int:
    """0-99 from the sticky value, the same for it until the candidate changes."""
    assert workflow.rollout_candidate is not None
    return bucket(rollout_salt(str(workflow.id), workflow.rollout_candidate), value)


def choose_arm(workflow: Workflow, run_input: Any, trigger: str) -> Arm | None:
    """The arm a new run on the active version goes to; None when no rollout applies."""
    candidate, percent = workflow.rollout_candidate, workflow.rollout_percent
    if candidate is None or percent is None or trigger not in ROLLOUT_TRIGGERS:
        return None
    value = sticky_value(workflow.rollout_sticky_by, run_input)
    placed = secrets.randbelow(100) if value is None else _bucket(workflow, value)
    if placed < percent:
        return Arm(candidate, CANDIDATE)
    return Arm(workflow.active_version, STABLE)
