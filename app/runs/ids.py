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


CHILD_SEPARATOR_ALIAS = "~"
"""Stands for ``/`` in a run id written into a URL path segment.

A child run's id is its parent's id, ``/``, and the node's path
(``run-…/child`` for a sub_workflow node, ``run-…/loop/0`` for a for_each
batch), and a ``/`` cannot travel inside one path segment (proxies and the
ASGI server decode ``%2F`` before routing). ``~`` never appears in a run id:
parents are ``run-`` and hex, node paths are ``[a-z0-9_]``, ``[``, ``]``, ``.``.
"""


def run_id_segment(run_id: str) -> str:
    """``run_id`` as one URL path segment: each ``/`` written as ``~``."""
    return run_id.replace("/", CHILD_SEPARATOR_ALIAS)


def run_id_from_segment(segment: str) -> str:
    """The run id a path segment names: each ``~`` read as ``/``."""
    return segment.replace(CHILD_SEPARATOR_ALIAS, "/")
