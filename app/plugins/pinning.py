"""Resolving the plugins a definition's ``script`` nodes name, at save and at run start.

At save, each reference must name an existing plugin and a range that some
version satisfies. At run start, each is resolved again to the newest version
in range (deprecated versions only when named exactly) and pinned: the node's
config gets the exact ``name@version``, the plugin's code and its schemas. The
code and schemas are escaped so that ``{{`` in them stays text (every string
in a config is a template).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.plugins import plugin_versions
from app.db.models.plugin import Plugin
from app.errors import ApiError, ErrorItem
from app.plugins.versions import BadRange, parse_range, split_reference
from interpreter.dsl.definition import Definition
from interpreter.dsl.pointer import resolve
from interpreter.nodes import SCRIPT, walk

_FROM_PLUGIN = ("code", "input_schema", "output_schema")
"""Config fields a plugin supplies, so a node naming one may not set them."""


class PluginProblem(Exception):
    """A plugin reference that cannot be used; ``pointer`` locates it."""

    def __init__(self, pointer: str, code: str, message: str) -> None:
        super().__init__(message)
        self.item = ErrorItem(path=pointer, code=code, message=message)


def _references(definition: Definition) -> list[tuple[str, str, Any]]:
    """(node path, config pointer, plugin reference) of each script node naming a plugin."""
    return [
        (placed.path, f"{placed.pointer}/config", placed.node.config["plugin"])
        for placed in walk(definition.nodes)
        if placed.kind is SCRIPT and placed.node.config.get("plugin") is not None
    ]


async def _resolve(
    session: AsyncSession, owner_id: uuid.UUID, node: str, where: str, reference: Any
) -> Plugin:
    """The plugin version ``reference`` resolves to among ``owner_id``'s.

    Raises:
        PluginProblem: not a literal ``name@range``, no such plugin, or no version in range.
    """
    at = f"{where}/plugin"
    if not isinstance(reference, str) or "{{" in reference:
        raise PluginProblem(
            at, "bad_plugin", f"node {node!r}: plugin must be written as name@version, not a "
            "template (plugins are resolved when a run starts)",
        )  # fmt: skip
    try:
        name, wanted = split_reference(reference)
        in_range = parse_range(wanted)
    except BadRange as bad:
        raise PluginProblem(at, "bad_plugin", f"node {node!r}: {bad}") from None
    versions = await plugin_versions(session=session, owner_id=owner_id, name=name)
    if not versions:
        raise PluginProblem(
            at, "unknown_plugin", f"node {node!r}: there is no plugin {name!r}; publish it with "
            "POST /plugins first",
        )  # fmt: skip
    exact = {v.version: v for v in versions}
    if wanted in exact:
        return exact[wanted]
    current = [v.version for v in versions if v.deprecated_at is None]
    chosen = in_range.newest(current)
    if chosen is None:
        listed = ", ".join(current) or "none (all deprecated)"
        raise PluginProblem(
            at, "unknown_plugin", f"node {node!r}: no version of plugin {name!r} is in range "
            f"{wanted!r}; its current versions: {listed}",
        )  # fmt: skip
    return exact[chosen]


async def plugin_errors(
    session: AsyncSession, definition: Definition, owner_id: uuid.UUID
) -> list[ErrorItem]:
    """A problem per script node whose plugin reference cannot be used by ``owner_id``."""
    errors: list[ErrorItem] = []
    for node, where, reference in _references(definition):
        config = resolve(definition.model_dump(mode="json", by_alias=True), where) or {}
        for field in _FROM_PLUGIN:
            if field in config:
                errors.append(
                    ErrorItem(
                        path=f"{where}/{field}",
                        code="plugin_field",
                        message=f"node {node!r} runs a plugin, which brings its own {field}: "
                        f"leave {field} out",
                    )
                )
        try:
            await _resolve(session, owner_id, node, where, reference)
        except PluginProblem as problem:
            errors.append(problem.item)
    return errors


def _escaped(value: Any) -> Any:
    r"""``value`` with every ``{{`` in its strings written ``\\{{``, so it renders as itself."""
    if isinstance(value, str):
        return value.replace("{{", "\\{{")
    if isinstance(value, list):
        return [_escaped(item) for item in value]
    if isinstance(value, dict):
        return {key: _escaped(item) for key, item in value.items()}
    return value


async def pin_plugins(
    session: AsyncSession, definition: Definition, owner_id: uuid.UUID
) -> Definition:
    """``definition`` with each plugin reference resolved and its code and schemas pinned.

    Raises:
        ApiError: 422 naming the node of a reference that no longer resolves
            (the plugin's versions were deprecated since the save).
    """
    references = _references(definition)
    if not references:
        return definition
    raw = definition.model_dump(mode="json", by_alias=True)
    for node, where, reference in references:
        try:
            plugin = await _resolve(session, owner_id, node, where, reference)
        except PluginProblem as problem:
            raise ApiError(422, problem.item.message, errors=[problem.item]) from None
        config = resolve(raw, where)
        config["plugin"] = f"{plugin.name}@{plugin.version}"
        config["code"] = _escaped(plugin.code)
        for field in ("input_schema", "output_schema"):
            schema = getattr(plugin, field)
            if schema is not None:
                config[field] = _escaped(schema)
    return Definition.model_validate(raw)


def pinned_plugins(raw_definition: Any) -> dict[str, str]:
    """``{node path: name@version}`` of the plugins a run's pinned definition runs."""
    try:
        definition = Definition.model_validate(raw_definition)
    except ValueError:
        return {}
    return {node: str(reference) for node, _, reference in _references(definition)}
