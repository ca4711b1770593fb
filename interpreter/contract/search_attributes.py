"""Custom search attributes that make runs listable through Temporal visibility.

The dev stack, the tests and ``temporal-config/`` register exactly these.
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey

WORKFLOW_ID = SearchAttributeKey.for_keyword("FlowForgeWorkflowId")
VERSION = SearchAttributeKey.for_int("FlowForgeVersion")
OWNER = SearchAttributeKey.for_keyword("FlowForgeOwner")
STATUS = SearchAttributeKey.for_keyword("FlowForgeStatus")
TRIGGER = SearchAttributeKey.for_keyword("FlowForgeTrigger")

ALL: tuple[SearchAttributeKey[Any], ...] = (
    WORKFLOW_ID,
    VERSION,
    OWNER,
    STATUS,
    TRIGGER,
)

BATCH_TRIGGER = "for_each_batch"
"""The trigger of a for_each batch's child run, its only search attribute: a batch
counts as none of its owner's runs (lists, quotas); the API shows it to whoever may
see its parent."""


def dev_server_flags() -> list[str]:
    """``--search-attribute NAME=Type`` flags for ``temporal server start-dev``."""
    kinds = {"KEYWORD": "Keyword", "INT": "Int"}
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}"]
    return flags
