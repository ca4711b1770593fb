"""Rollouts: a candidate version takes a share of a workflow's new runs.

While a rollout is on, each run started on the active version (by the API,
a hook or an event) goes to the candidate with probability ``percent``; with
``sticky_by`` (a CEL expression over ``input``) the choice is a hash of its
value instead, so one customer always lands on the same arm, and raising the
percentage only moves more values over (a value's bucket never changes while
the candidate does not). Runs that name a version, schedules (which pin one
input when they are created) and reruns keep their version.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any

from app.db.models.workflow import Workflow
from app.errors import ErrorItem
from interpreter.dsl.expressions import compile_expression, evaluate, root_names
from interpreter.errors import ExpressionError, ExpressionSyntaxError

CANDIDATE = "candidate"
STABLE = "stable"
ROLLOUT_TRIGGERS = frozenset({"api", "webhook", "event"})
"""What starts runs a rollout shares out: the starts that ask for the active version."""


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
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{workflow.id}:{workflow.rollout_candidate}:{canonical}".encode())
    return int.from_bytes(digest.digest()[:8], "big") % 100


def choose_arm(workflow: Workflow, run_input: Any, trigger: str) -> Arm | None:
    """The arm a new run on the active version goes to; None when no rollout applies."""
    candidate, percent = workflow.rollout_candidate, workflow.rollout_percent
    if candidate is None or percent is None or trigger not in ROLLOUT_TRIGGERS:
        return None
    value = None
    if workflow.rollout_sticky_by is not None:
        try:
            value = evaluate(workflow.rollout_sticky_by, {"input": run_input})
        except ExpressionError:
            value = None  # no such field in this input: the run is placed at random
    bucket = secrets.randbelow(100) if value is None else _bucket(workflow, value)
    if bucket < percent:
        return Arm(candidate, CANDIDATE)
    return Arm(workflow.active_version, STABLE)
