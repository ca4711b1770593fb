"""Run ids: the Temporal workflow ids the API gives runs."""

from __future__ import annotations

import hashlib
import uuid

_PREFIX = "run-"


def new_run_id() -> str:
    """A fresh run id, for a start without an idempotency key."""
    return _PREFIX + uuid.uuid4().hex


def idempotent_run_id(workflow_id: uuid.UUID, key: str) -> str:
    """The same id for the same workflow and ``Idempotency-Key``, so Temporal dedupes starts."""
    digest = hashlib.sha256(f"{workflow_id}\n{key}".encode()).hexdigest()
    return _PREFIX + digest[:32]
