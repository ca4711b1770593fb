"""Save-time limits on what one node may hold a run to: waits, signal timeouts, literal lists.

Only what is known at save time is checked: a templated duration or an
``items`` expression that reads data is bounded when the run gets there
(``for_each_max_items`` fails the node; waits are not bounded then).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from interpreter.dsl.durations import parse_duration
from interpreter.nodes import kind_of
from interpreter.validation.issues import ValidationIssue


def limit_issues(
    raw_nodes: Any,
    *,
    max_wait: timedelta | None,
    max_signal_timeout: timedelta | None,
    max_for_each_items: int,
    max_attempts: int = 0,
    raw_defaults: Any = None,
    max_payload_bytes: int = 0,
    now: datetime | None = None,
) -> list[ValidationIssue]:
    """The nodes (for_each bodies included) whose static config exceeds a limit.

    Args:
        raw_nodes: The definition's ``nodes`` as submitted.
        max_wait: Longest ``wait`` duration, and how far ahead its ``until``
            may be (None: no limit).
        max_signal_timeout: Longest ``wait_for_signal`` timeout (None: no limit).
        max_for_each_items: Most items of a literal ``for_each`` list (0: no limit).
        max_attempts: Most ``retry.max_attempts`` of a node or of the
            definition's ``defaults`` (0: no limit).
        raw_defaults: The definition's ``defaults`` as submitted.
        max_payload_bytes: Largest ``max_response_bytes`` an ``http`` node may set:
            what one node's result may hold (0: no limit).
        now: The time ``until`` is measured from (the current time if None).
    """
    moment = now or datetime.now(UTC)
    issues: list[ValidationIssue] = []
    for path, node_type, config, node_id in _configs(raw_nodes, ""):
        if node_type == "wait" and max_wait is not None:
            issues += _duration_issue(
                config, "duration", path, max_wait, "FLOWFORGE_QUOTA_MAX_WAIT"
            )
            issues += _until_issue(config, path, max_wait, moment)
        elif node_type == "wait_for_signal" and max_signal_timeout is not None:
            issues += _duration_issue(
                config, "timeout", path, max_signal_timeout, "FLOWFORGE_QUOTA_MAX_SIGNAL_TIMEOUT"
            )
        elif node_type == "for_each" and max_for_each_items:
            issues += _items_issue(config, path, max_for_each_items)
        elif node_type == "http" and max_payload_bytes:
            issues += _response_cap_issue(config, path, node_id, max_payload_bytes)
    if max_attempts:
        holders = [(path, node) for path, node in _nodes(raw_nodes, "")]
        if isinstance(raw_defaults, dict):
            holders.insert(0, ("/defaults", raw_defaults))
        for path, holder in holders:
            issues += _attempts_issue(holder.get("retry"), f"{path}/retry", max_attempts)
    return issues


def _nodes(raw_nodes: Any, prefix: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Pointer and object of every node, nested DAGs included."""
    for index, node in enumerate(raw_nodes if isinstance(raw_nodes, list) else []):
        if not isinstance(node, dict):
            continue
        path = f"{prefix}/nodes/{index}"
        yield path, node
        kind = kind_of(node["type"]) if isinstance(node.get("type"), str) else None
        config = node.get("config")
        if kind is None or not isinstance(config, dict):
            continue
        for sub in kind.sub_dag_fields:
            body = config.get(sub.field)
            if isinstance(body, dict):
                yield from _nodes(body.get("nodes"), f"{path}/config/{sub.field}")


def _configs(raw_nodes: Any, prefix: str) -> Iterator[tuple[str, str, dict[str, Any], Any]]:
    """Pointer, type, config and id of every node object, nested DAGs included."""
    for path, node in _nodes(raw_nodes, prefix):
        node_type, config = node.get("type"), node.get("config")
        if isinstance(node_type, str) and isinstance(config, dict):
            yield f"{path}/config", node_type, config, node.get("id")


def _response_cap_issue(
    config: dict[str, Any], path: str, node_id: Any, limit: int
) -> list[ValidationIssue]:
    cap = config.get("max_response_bytes")
    if not isinstance(cap, int) or isinstance(cap, bool) or cap <= limit:
        return []  # unset, within the limit, or a template checked when the node runs
    return [
        ValidationIssue(
            path=f"{path}/max_response_bytes",
            code="over_limit",
            message=f"node {node_id!r}: max_response_bytes {cap} is over the {limit} bytes "
            "a node's result may hold (FLOWFORGE_RUN_MAX_PAYLOAD_BYTES): Temporal could not "
            "store a larger response; set at most that",
        )
    ]


def _attempts_issue(retry: Any, path: str, limit: int) -> list[ValidationIssue]:
    attempts = retry.get("max_attempts") if isinstance(retry, dict) else None
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts <= limit:
        return []
    return [
        ValidationIssue(
            path=f"{path}/max_attempts",
            code="over_limit",
            message=f"max_attempts {attempts} is more than the {limit} allowed "
            "(FLOWFORGE_RUN_MAX_ATTEMPTS_CAP); use at most that",
        )
    ]


def _show(limit: timedelta) -> str:
    seconds = limit.total_seconds()
    if seconds % 86_400 == 0:
        return f"{seconds / 86_400:g}d"
    return f"{seconds:g}s"


def _duration_issue(
    config: dict[str, Any], key: str, path: str, limit: timedelta, setting: str
) -> list[ValidationIssue]:
    text = config.get(key)
    if not isinstance(text, str):
        return []
    try:
        value = parse_duration(text)
    except ValueError:
        return []  # a template, or a bad duration the config check reports
    if value <= limit:
        return []
    return [
        ValidationIssue(
            path=f"{path}/{key}",
            code="over_limit",
            message=f"{key} {text!r} is longer than the {_show(limit)} allowed ({setting}); "
            "use a shorter one",
        )
    ]


def _until_issue(
    config: dict[str, Any], path: str, limit: timedelta, now: datetime
) -> list[ValidationIssue]:
    until = config.get("until")
    if not isinstance(until, str):
        return []
    try:
        moment = datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        return []  # a template, or a bad time the config check reports
    if moment.tzinfo is None or moment - now <= limit:
        return []
    return [
        ValidationIssue(
            path=f"{path}/until",
            code="over_limit",
            message=f"until {until!r} is more than the {_show(limit)} allowed ahead "
            "(FLOWFORGE_QUOTA_MAX_WAIT); use an earlier time",
        )
    ]


def _items_issue(config: dict[str, Any], path: str, limit: int) -> list[ValidationIssue]:
    items = config.get("items")
    if not isinstance(items, str):
        return []
    try:
        literal = json.loads(items)
    except ValueError:
        return []  # an expression: its list is known only when the run evaluates it
    if not isinstance(literal, list) or len(literal) <= limit:
        return []
    return [
        ValidationIssue(
            path=f"{path}/items",
            code="over_limit",
            message=f"items lists {len(literal)} values; the limit is {limit} "
            "(FLOWFORGE_FOR_EACH_MAX_ITEMS)",
        )
    ]
