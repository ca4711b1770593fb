"""``POST /workflows/import``: a workflow written in another tool's vocabulary, as a definition.

Two shapes are read, both as hand-written workflow documents commonly have them:

- ``steps``: a list of steps with a ``type`` (``HTTP_REQUEST``, ``DATA_TRANSFORM``,
  ...) and an ``order``; steps of one order run in parallel, after every step
  of the order before.
- ``nodes`` and ``edges``: nodes with such types and ``retryConfig``; edges with
  ``source``/``target`` and ``condition: {type: ALWAYS|SUCCESS|FAILURE|EXPRESSION}``.

Variables ``{{leadId}}`` become ``{{ input.leadId }}`` (or ``{{ nodes.leadId.output }}``
when a step has that id), and ``steps.X`` / ``$.X`` references become ``nodes.X``.
Every change is listed in the answer's notes, and whatever cannot be mapped too;
the result is then validated like any definition, so what is left to fix has its path.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from interpreter.nodes import known_types
from interpreter.validation.hints import fold, our_type, type_hint

_EDGE_ON = {"always": "always", "success": "success", "onsuccess": "success"}
_EDGE_ON |= {"failure": "failure", "onfailure": "failure", "error": "failure"}

_NODE_FIELDS = {
    "id", "type", "name", "config", "retry", "timeout", "total_timeout", "when", "output",
    "join", "circuit_breaker", "task_queue", "idempotency", "execution",
}  # fmt: skip
_HOLE = re.compile(r"\{\{\s*(.+?)\s*\}\}")
_BARE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class Imported:
    """The converted definition and what the conversion did."""

    definition: dict[str, Any]
    notes: list[str] = field(default_factory=list)


@dataclass
class _Context:
    notes: list[str]
    step_ids: set[str]


def import_document(document: dict[str, Any]) -> Imported:
    """``document`` converted into a FlowForge definition (see the module docstring)."""
    notes: list[str] = []
    raw_steps = document.get("steps")
    steps: list[Any]
    if isinstance(raw_steps, list):
        steps, edges = _from_steps(raw_steps, notes)
    else:
        raw_nodes = document.get("nodes")
        steps = raw_nodes if isinstance(raw_nodes, list) else []
        edges = _edges(document.get("edges"), notes)
    ids = {str(_step_id(step, index)) for index, step in enumerate(steps) if isinstance(step, dict)}
    context = _Context(notes, ids)
    nodes = [
        _node(step, f"/{'steps' if raw_steps is not None else 'nodes'}/{index}", index, context)
        for index, step in enumerate(steps)
        if isinstance(step, dict)
    ]
    definition: dict[str, Any] = {
        "dsl_version": 1,
        "name": _name(document, notes),
        "nodes": nodes,
        "edges": edges,
    }
    for key in ("description", "input_schema", "output", "defaults", "triggers"):
        if key in document:
            definition[key] = _rewrite(document[key], f"/{key}", context)
    for camel, ours in (("inputSchema", "input_schema"), ("outputs", "output")):
        if camel in document and ours not in document:
            definition[ours] = _rewrite(document[camel], f"/{camel}", context)
            notes.append(f"/{camel}: became {ours}")
    known = {"steps", "nodes", "edges", "name", "id", "dsl_version", "version", "inputSchema"}
    known |= {"description", "input_schema", "output", "outputs", "defaults", "triggers"}
    for key in sorted(set(document) - known):
        notes.append(f"/{key}: not mapped (FlowForge has no such field); left out")
    return Imported(definition=definition, notes=notes)


def _name(document: dict[str, Any], notes: list[str]) -> str:
    name = document.get("name") or document.get("id")
    if isinstance(name, str) and name.strip():
        return name.strip()[:200]
    notes.append("/name: missing; named 'imported-workflow'")
    return "imported-workflow"


def _step_id(step: dict[str, Any], index: int) -> str:
    raw = step.get("id") or step.get("key") or step.get("name") or f"step_{index + 1}"
    cleaned = re.sub(r"[^A-Za-z0-9_]", "_", str(raw)).strip("_") or f"step_{index + 1}"
    return cleaned if cleaned[0].isalpha() else f"s_{cleaned}"


def _from_steps(
    steps: list[Any], notes: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Steps ordered by ``order`` (else as listed), and the edges that order implies."""
    indexed = [(index, step) for index, step in enumerate(steps) if isinstance(step, dict)]

    def order_of(item: tuple[int, dict[str, Any]]) -> float:
        value = item[1].get("order")
        return float(value) if isinstance(value, int | float) else float(item[0])

    groups: dict[float, list[str]] = {}
    for index, step in sorted(indexed, key=order_of):
        groups.setdefault(order_of((index, step)), []).append(_step_id(step, index))
    edges: list[dict[str, Any]] = []
    levels = list(groups.values())
    for before, after in itertools.pairwise(levels):
        edges += [{"from": a, "to": b} for a in before for b in after]
    notes.append(
        "/steps: became nodes; their order became edges (steps of one order run in parallel)"
    )
    return steps, edges


def _edges(raw: Any, notes: list[str]) -> list[dict[str, Any]]:
    edges: list[dict[str, Any]] = []
    for index, edge in enumerate(raw if isinstance(raw, list) else []):
        if not isinstance(edge, dict):
            continue
        path = f"/edges/{index}"
        converted: dict[str, Any] = {
            "from": edge.get("from", edge.get("source")),
            "to": edge.get("to", edge.get("target")),
        }
        if "source" in edge or "target" in edge:
            notes.append(f"{path}: source/target became from/to")
        if "on" in edge:
            converted["on"] = edge["on"]
        if "when" in edge:
            converted["when"] = edge["when"]
        condition = edge.get("condition")
        if isinstance(condition, dict):
            kind = fold(str(condition.get("type", "")))
            if kind in _EDGE_ON:
                converted["on"] = _EDGE_ON[kind]
                notes.append(
                    f"{path}/condition: type {condition.get('type')} became on: {_EDGE_ON[kind]}"
                )
            elif kind == "expression" and isinstance(condition.get("expression"), str):
                converted["when"] = _cel(condition["expression"])
                notes.append(f"{path}/condition: the expression became when (CEL); check it")
            else:
                notes.append(f"{path}/condition: not mapped: {condition!r}")
        elif isinstance(condition, str):
            converted["when"] = _cel(condition)
            notes.append(f"{path}/condition: became when (CEL); check it")
        edges.append(converted)
    return edges


def _cel(expression: str) -> str:
    """An expression with ``{{x}}`` holes and ``steps.X`` references, as plain CEL."""
    inner = _HOLE.fullmatch(expression.strip())
    text = inner.group(1) if inner else expression
    return re.sub(r"\bsteps\.", "nodes.", text)


def _node(step: dict[str, Any], path: str, index: int, context: _Context) -> dict[str, Any]:
    notes = context.notes
    node_id = _step_id(step, index)
    if str(step.get("id", "")) != node_id:
        notes.append(f"{path}: id {node_id!r}")
    written = str(step.get("type", ""))
    node_type = our_type(written, known_types())
    if node_type is None:
        hint = type_hint(written, known_types())
        notes.append(f"{path}/type: {written!r} not mapped; {hint}left as it is")
        node_type = written
    elif node_type != written:
        notes.append(f"{path}/type: {written} became {node_type}")
    node: dict[str, Any] = {"id": node_id, "type": node_type}
    if isinstance(step.get("name"), str) and step.get("name") != node_id:
        node["name"] = step["name"]
    config = step.get("config", step.get("parameters", step.get("params", {})))
    if "config" not in step and config:
        notes.append(f"{path}: parameters became config")
    node["config"] = _rewrite(_config(node_type, config, path, notes), f"{path}/config", context)
    retry = step.get("retry", step.get("retryConfig", step.get("retryPolicy")))
    if retry is not None:
        node["retry"] = _retry(retry, f"{path}/retry", notes)
    timeout = step.get("timeout", step.get("timeoutMs"))
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        node["timeout"] = f"{int(timeout)}ms"
        notes.append(f"{path}/timeout: {timeout} became '{int(timeout)}ms' (read as milliseconds)")
    elif isinstance(timeout, str):
        node["timeout"] = timeout
    for key in _NODE_FIELDS - {"id", "type", "name", "config", "retry", "timeout"}:
        if key in step:
            node[key] = _rewrite(step[key], f"{path}/{key}", context)
    mapped = {"id", "key", "type", "name", "config", "parameters", "params", "order"}
    mapped |= {"retry", "retryConfig", "retryPolicy", "timeout", "timeoutMs"} | _NODE_FIELDS
    for key in sorted(set(step) - mapped):
        notes.append(f"{path}/{key}: not mapped; left out")
    return node


def _config(node_type: str, config: Any, path: str, notes: list[str]) -> Any:
    if not isinstance(config, dict):
        return config
    converted = dict(config)
    renames: dict[str, str] = {}
    if node_type in ("http", "webhook"):
        renames = {"endpoint": "url", "uri": "url", "httpMethod": "method", "verb": "method"}
        renames |= {"payload": "body", "data": "body", "queryParams": "params"}
        if node_type == "webhook":
            renames = {k: v for k, v in renames.items() if v != "body"} | {"body": "payload"}
    for old, new in renames.items():
        if old in converted and new not in converted:
            converted[new] = converted.pop(old)
            notes.append(f"{path}/config/{old}: became {new}")
    if node_type in ("http", "webhook") and "timeoutMs" in converted:
        converted["timeout"] = f"{converted.pop('timeoutMs')}ms"
        notes.append(f"{path}/config/timeoutMs: became timeout")
    return converted


def _retry(raw: Any, path: str, notes: list[str]) -> Any:
    if not isinstance(raw, dict):
        if isinstance(raw, int) and not isinstance(raw, bool):
            notes.append(f"{path}: {raw} retries became max_attempts {raw + 1}")
            return {"max_attempts": raw + 1}
        return raw
    retry: dict[str, Any] = {}
    for key, value in raw.items():
        folded = fold(key)
        if folded in ("maxretries", "retries", "retrycount") and isinstance(value, int):
            retry["max_attempts"] = value + 1
            notes.append(f"{path}/{key}: {value} retries became max_attempts {value + 1}")
        elif folded == "maxattempts":
            retry["max_attempts"] = value
        elif folded in ("backoff", "strategy", "backoffstrategy", "type"):
            strategy = fold(str(value))
            retry["strategy"] = (
                strategy if strategy in ("exponential", "linear", "fixed") else value
            )
        elif folded in ("initialinterval", "delay", "delayms", "initialdelayms", "interval"):
            retry["initial_interval"] = f"{value}ms" if isinstance(value, int | float) else value
        elif folded in ("maxinterval", "maxdelay", "maxdelayms"):
            retry["max_interval"] = f"{value}ms" if isinstance(value, int | float) else value
        elif folded in ("backoffcoefficient", "multiplier", "backoffmultiplier"):
            retry["backoff_coefficient"] = value
        else:
            retry[key] = value
    return retry


def _rewrite(value: Any, path: str, context: _Context) -> Any:
    """``value`` with its ``{{ ... }}`` holes in FlowForge's terms."""
    if isinstance(value, dict):
        return {k: _rewrite(v, f"{path}/{k}", context) for k, v in value.items()}
    if isinstance(value, list):
        return [_rewrite(v, f"{path}/{i}", context) for i, v in enumerate(value)]
    if not isinstance(value, str) or "{{" not in value:
        return value
    rewrite: Callable[[re.Match[str]], str] = lambda match: _hole(match, path, context)  # noqa: E731
    return _HOLE.sub(rewrite, value)


_ROOTS = {"input", "nodes", "secrets", "item", "index", "result", "run", "env"}


def _hole(match: re.Match[str], path: str, context: _Context) -> str:
    text = match.group(1)
    if _BARE.match(text) and text not in _ROOTS:
        new = f"nodes.{text}.output" if text in context.step_ids else f"input.{text}"
        context.notes.append(f"{path}: {{{{{text}}}}} became {{{{ {new} }}}}")
        return f"{{{{ {new} }}}}"
    replaced = re.sub(r"^(steps|\$)\.", "nodes.", text)
    if replaced != text:
        context.notes.append(f"{path}: {text} became {replaced}")
    return f"{{{{ {replaced} }}}}"
