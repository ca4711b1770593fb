"""Hints ("did you mean") for unknown node types and fields.

Two sources: typos (``transfrom``, ``methd``), found by similarity to what is
allowed at that place, and the vocabulary of other engines and of hand-written
workflow documents (``HTTP_REQUEST``, ``retryConfig``, ``steps``), looked up in
the tables below after folding case and punctuation (``httpRequest``,
``http-request`` and ``HTTP_REQUEST`` are one word).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel

from interpreter.dsl.definition import Defaults, Definition, Edge, Node, RetrySpec
from interpreter.dsl.pointer import resolve, unescape
from interpreter.nodes import kind_of
from interpreter.validation.issues import ValidationIssue

_TYPES = {
    "http": ("httprequest", "request", "rest", "restcall", "apicall", "api", "httpcall", "fetch"),
    "transform": ("datatransform", "map", "mapping", "function", "code", "jsonata", "assign"),
    "condition": ("if", "ifelse", "decision", "branch", "choice", "filter", "conditional"),
    "switch": ("case", "router", "route"),
    "wait": ("delay", "sleep", "timer", "pause"),
    "webhook": ("notify", "notification", "callback", "publish", "sendwebhook", "webhookcall"),
    "for_each": (
        "foreach", "loop", "iterate", "each", "parallel", "fork", "forkjoin", "dynamicfork",
    ),
    "script": ("javascript", "js", "python", "inline", "lambda", "custom", "expression", "plugin"),
    "sub_workflow": ("subworkflow", "childworkflow", "child", "workflow", "invoke"),
    "wait_for_signal": (
        "signal", "humantask", "human", "approval", "waitforevent", "event", "manual",
    ),
    "validate": ("validation", "schema", "jsonschema", "check"),
    "log": ("logger", "print", "debug", "echo"),
    "fail": ("error", "terminate", "throw", "abort"),
    "succeed": ("success", "end", "stop", "done"),
}  # fmt: skip
"""Our node types, and the words other tools use for them (folded)."""

_FIELDS: dict[str, tuple[str, str]] = {
    # Retries and timeouts.
    "retries": ("retry", 'an object such as {"max_attempts": 3}'),
    "retryconfig": ("retry", 'an object such as {"max_attempts": 3}'),
    "retrypolicy": ("retry", 'an object such as {"max_attempts": 3}'),
    "maxretries": ("retry", '{"max_attempts": N}, counting the first attempt'),
    "retrycount": ("retry", '{"max_attempts": N}, counting the first attempt'),
    "maxattempts": ("retry", '{"max_attempts": N} inside retry'),
    "timeoutms": ("timeout", 'a duration such as "30s" or "500ms"'),
    "timeoutseconds": ("timeout", 'a duration such as "30s"'),
    "timeoutsec": ("timeout", 'a duration such as "30s"'),
    # The graph.
    "steps": ("nodes", "a list of nodes, connected by edges"),
    "tasks": ("nodes", "a list of nodes, connected by edges"),
    "states": ("nodes", "a list of nodes, connected by edges"),
    "connections": ("edges", 'a list of {"from", "to"}'),
    "transitions": ("edges", 'a list of {"from", "to"}'),
    "links": ("edges", 'a list of {"from", "to"}'),
    "next": ("edges", 'an edge {"from": this node, "to": the next}'),
    "dependson": ("edges", "an edge from each node this one depends on"),
    "depends": ("edges", "an edge from each node this one depends on"),
    "order": ("edges", "nodes run when their upstream edges allow, not by an order"),
    "source": ("from", "the upstream node id"),
    "target": ("to", "the downstream node id"),
    "condition": ("when", "a CEL expression; or on: success|failure|always"),
    "if": ("when", "a CEL expression"),
    # A node's settings.
    "parameters": ("config", "the node type's settings"),
    "params": ("config", "the node type's settings"),
    "settings": ("config", "the node type's settings"),
    "inputs": ("config", "the node type's settings"),
    "properties": ("config", "the node type's settings"),
    "options": ("config", "the node type's settings"),
    "kind": ("type", "the node type"),
    "nodetype": ("type", "the node type"),
    "steptype": ("type", "the node type"),
    "label": ("name", "the node's display name"),
    "title": ("name", "the node's display name"),
    "displayname": ("name", "the node's display name"),
    "key": ("id", "the node id"),
    "stepid": ("id", "the node id"),
    "nodeid": ("id", "the node id"),
    "circuitbreaker": ("circuit_breaker", "the breaker's service name"),
    "taskqueue": ("task_queue", "the worker task queue"),
    "version": ("dsl_version", "1"),
    "schemaversion": ("dsl_version", "1"),
    "inputschema": ("input_schema", "a JSON Schema of the run input"),
    # http config.
    "endpoint": ("url", "the request URL"),
    "uri": ("url", "the request URL"),
    "verb": ("method", "GET, POST, ..."),
    "httpmethod": ("method", "GET, POST, ..."),
    "payload": ("body", "the JSON body"),
    "data": ("body", "the JSON body"),
    "json": ("body", "the JSON body"),
    "query": ("params", "the query parameters"),
    "queryparams": ("params", "the query parameters"),
}
"""Fields other tools use, by folded name: our field, and what it takes."""

_MESSAGE = "Extra inputs are not permitted"


def fold(word: str) -> str:
    """``word`` in lower case without separators (``HTTP_REQUEST`` -> ``httprequest``)."""
    return re.sub(r"[^a-z0-9]", "", word.lower())


_TYPE_OF = {alias: ours for ours, aliases in _TYPES.items() for alias in aliases}


def our_type(name: str, known: Iterable[str]) -> str | None:
    """The node type among ``known`` that ``name`` spells, maybe in another tool's words."""
    options = list(known)
    folded = fold(name)
    guess = {fold(option): option for option in options}.get(folded) or _TYPE_OF.get(folded)
    if guess not in options:
        return None
    kind = kind_of(guess)  # an alias (echo) is spelled as the type it stands for (log)
    return kind.name if kind is not None and kind.name in options else guess


def type_hint(name: str, known: Iterable[str]) -> str:
    """``"did you mean 'http'? "`` for an unknown node type, or ``""`` if none is near."""
    options = list(known)
    ours = {fold(option): option for option in options}
    guess = our_type(name, options)
    if guess is None:
        folded = fold(name)
        close = difflib.get_close_matches(folded, list(ours), n=1, cutoff=0.75)
        guess = ours[close[0]] if close else None
    return f"did you mean {guess!r}? " if guess in options else ""


def field_hint(name: str, allowed: Iterable[str]) -> str:
    """``"; did you mean 'retry' (...)?"`` for an unknown field, or ``""`` if none is near."""
    options = list(allowed)
    folded = fold(name)
    ours = {fold(option): option for option in options}
    if folded in ours:
        return f"; did you mean {ours[folded]!r}?"
    if folded in _FIELDS:
        field, takes = _FIELDS[folded]
        if field in options:
            return f"; did you mean {field!r} ({takes})?"
        if field in ("nodes", "edges"):
            return f"; FlowForge has no such field here: use {field!r} ({takes})"
    close = difflib.get_close_matches(folded, list(ours), n=1, cutoff=0.75)
    if close:
        return f"; did you mean {ours[close[0]]!r}?"
    return f"; allowed here: {', '.join(sorted(options))}"


def _fields(model: type[BaseModel]) -> list[str]:
    return [info.alias or name for name, info in model.model_fields.items()]


def allowed_fields(document: Any, parent: str) -> list[str] | None:
    """The fields an object at ``parent`` in ``document`` may have; None if unknown."""
    if parent == "":
        return _fields(Definition)
    if parent == "/defaults":
        return _fields(Defaults)
    if parent.endswith("/retry"):
        return _fields(RetrySpec)
    if re.search(r"/nodes/\d+$", parent):
        return _fields(Node)
    if re.search(r"/edges/\d+$", parent):
        return _fields(Edge)
    if parent.endswith("/config"):
        node = resolve(document, parent.removesuffix("/config"))
        kind = (
            kind_of(node["type"])
            if isinstance(node, dict) and isinstance(node.get("type"), str)
            else None
        )
        return _fields(kind.config_model) if kind is not None else None
    return None


def with_hints(document: Any, issues: list[ValidationIssue]) -> list[ValidationIssue]:
    """``issues`` with each unknown field named, and what it may have meant."""
    hinted: list[ValidationIssue] = []
    for issue in issues:
        if _MESSAGE not in issue.message:
            hinted.append(issue)
            continue
        parent, _, name = issue.path.rpartition("/")
        name = unescape(name)
        allowed = allowed_fields(document, parent)
        hint = field_hint(name, allowed) if allowed is not None else ""
        message = issue.message.replace(_MESSAGE, f"unknown field {name!r}{hint}")
        hinted.append(issue.model_copy(update={"message": message}))
    return hinted
