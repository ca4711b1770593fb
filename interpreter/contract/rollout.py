"""How a rollout places a run on an arm: the bucket the API and the workflow both compute.

The API places the runs it starts itself (:mod:`app.workflows.rollout`); a
schedule's runs are placed by their own workflow code as each one starts
(:func:`interpreter.runtime.arms.placed`), from the same bucket, so a
``sticky_by`` value lands on the same arm whichever way its run started.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from interpreter.dsl.expressions import evaluate
from interpreter.errors import ExpressionError

CANDIDATE = "candidate"
STABLE = "stable"
ARM_MEMO = "flowforge_arm"
"""Memo key a run placed by its own workflow code (a schedule's) keeps its arm under."""


def rollout_salt(workflow_id: str, candidate: int) -> str:
    """What a bucket is salted with: a value keeps its bucket while the candidate is the same."""
    return f"{workflow_id}:{candidate}"


def bucket(salt: str, value: Any) -> int:
    """0-99 from ``value`` (any JSON) under ``salt``: the same on every process and replay."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256(f"{salt}:{canonical}".encode())
    return int.from_bytes(digest.digest()[:8], "big") % 100


def sticky_value(expression: str | None, run_input: Any) -> Any:
    """The value of ``sticky_by`` over the run's input; None without one or without that field."""
    if expression is None:
        return None
    try:
        return evaluate(expression, {"input": run_input})
    except ExpressionError:
        return None  # no such field in this input: the run is placed as if not sticky
