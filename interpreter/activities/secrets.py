"""How ``{{ secrets.NAME }}`` holes are filled inside an activity, and values kept out of results.

The workflow leaves these holes unrendered so secret values never enter
Temporal history (see :func:`interpreter.dsl.holes.render`'s ``defer``): the
config an http or webhook activity gets is a template, which
:func:`reveal_secrets` renders with the run owner's secrets from the worker's
:class:`SecretResolver`. What the activity then returns or raises goes
through the :class:`~interpreter.activities.masking.Masker` it got back.

A secret may only be used whole: a hole is exactly ``secrets.NAME`` (or
``secrets['NAME']``). Any other expression over a secret (``bytes()``,
``size()``, ``matches()``, an operator) would hand back an encoded or derived
value the masker cannot recognise, or answer questions about the value, so
:func:`reveal_secrets` refuses it before anything is read, as save-time
validation does (a run started straight on Temporal skips the latter).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from interpreter.activities.base import ActivityRequest, verified_owner
from interpreter.activities.masking import Masker
from interpreter.dsl.expressions import (
    WHOLE_SECRET_RULE,
    cel_tokens,
    root_names,
    whole_secret,
)
from interpreter.dsl.holes import Hole, iter_holes, render
from interpreter.dsl.node_config import config_error
from interpreter.errors import ConfigError, ExpressionError, SecretUnreadable
from interpreter.run_proof import RunKeys

SECRET_ROOT = "secrets"


class SecretResolver(Protocol):
    """The secret store as activities see it; the worker's reads PostgreSQL."""

    async def values(self, owner: str, names: Collection[str] | None) -> Mapping[str, str]:
        """The decrypted values of ``owner``'s secrets called ``names`` (all if None).

        Names that do not exist are left out of the result.

        Raises:
            SecretUnreadable: a stored value does not open with this worker's key.
        """
        ...


@dataclass(frozen=True)
class Revealed:
    """A node's config with its secrets filled in, and the masker for what comes out."""

    config: dict[str, Any]
    masker: Masker
    secret_fields: frozenset[str] = frozenset()
    """JSON pointers (relative to the config) of the strings that held a secret hole:
    what came from a secret must not follow a redirect to another origin."""


async def reveal_secrets(
    resolver: SecretResolver | None, request: ActivityRequest, keys: RunKeys | None
) -> Revealed:
    """Render the request's config template with the run owner's secrets.

    The owner is the one the run's proof names, checked with ``keys``
    (:func:`~interpreter.activities.base.verified_owner`), never the one the
    request names; a config that reads no secret needs no proof.

    Raises:
        ConfigError: naming the node, when a hole does anything with a secret
            but read it whole (naming the field too), a hole reads a secret
            that does not exist, the run has no owner, the worker has no
            secret store, or a template is broken.
        Unauthorized: a hole reads a secret and the run has no valid proof.
    """
    node = request.node_id
    try:
        fields = secret_fields(request.config, node)
        names = secret_names(request.config)
    except ExpressionError as exc:
        raise config_error(node, "config", str(exc)) from None
    values: Mapping[str, str] = {}
    if names is None or names:
        if resolver is None:
            raise config_error(node, "config", "secrets are not configured on this worker")
        owner = verified_owner(keys, request)
        if not owner:
            raise config_error(node, "config", "this run has no owner, so it cannot read secrets")
        try:
            values = await resolver.values(owner, names)
        except SecretUnreadable as exc:
            raise config_error(node, "config", str(exc)) from None
        missing = sorted((names or set()) - values.keys())
        if missing:
            raise config_error(
                node,
                "config",
                f"no secret named {', '.join(map(repr, missing))}: the workflow's owner "
                "can create it with POST /api/v1/secrets",
            )
    masker = Masker(values.values())
    try:
        config = render(request.config, {SECRET_ROOT: dict(values)}, where="config")
    except ExpressionError as exc:
        message = masker.text(str(exc))
        raise ConfigError(f"node {node!r}: {message}", details={"field": "config"}) from None
    return Revealed(config=config, masker=masker, secret_fields=fields)


def secret_fields(config: Any, node_id: str) -> frozenset[str]:
    """JSON pointers of the strings in node ``node_id``'s ``config`` whose holes read a secret.

    Raises:
        ConfigError: naming the node and the field (``config/headers/X``), for a
            hole that uses ``secrets`` other than whole (the message says what
            is allowed).
        ExpressionError: a hole does not parse or compile.
    """
    fields: set[str] = set()
    for where, hole in iter_holes(config):
        if SECRET_ROOT not in root_names(hole.source):
            continue
        if whole_secret(hole.source) is None:
            raise config_error(
                node_id, f"config{where}", f"{hole_text(hole)} is refused: {WHOLE_SECRET_RULE}"
            )
        fields.add(where)
    return frozenset(fields)


def hole_text(hole: Hole) -> str:
    """The hole as written, for messages (the source is the definition's, never a value)."""
    return "{{ " + hole.source + " }}"


def secret_names(config: Any) -> frozenset[str] | None:
    """The secret names the holes of ``config`` read.

    None if a hole names one dynamically: then every secret of the owner is needed.

    Raises:
        ExpressionError: a hole does not parse or compile.
    """
    names: set[str] = set()
    for _, hole in iter_holes(config):
        if SECRET_ROOT not in root_names(hole.source):
            continue
        found = _literal_names(hole.source)
        if found is None:
            return None
        names |= found
    return frozenset(names)


def _literal_names(source: str) -> set[str] | None:
    """Names in ``secrets.NAME`` / ``secrets['NAME']``; None for any other use of ``secrets``."""
    tokens = [(kind, text) for kind, text, _ in cel_tokens(source) if kind != "space"]
    names: set[str] = set()
    for i, (kind, text) in enumerate(tokens):
        if kind != "name" or text != SECRET_ROOT or (i > 0 and tokens[i - 1] == ("other", ".")):
            continue
        after = tokens[i + 1 : i + 4]
        if [k for k, _ in after[:2]] == ["other", "name"] and after[0][1] == ".":
            names.add(after[1][1])
        elif [t for _, t in after[:1] + after[2:3]] == ["[", "]"] and _plain_string(after[1]):
            names.add(after[1][1][1:-1])
        else:
            return None
    return names


def _plain_string(token: tuple[str, str]) -> bool:
    kind, text = token
    return (
        kind == "string"
        and len(text) >= 2
        and text[0] in "'\""
        and text[-1] == text[0]
        and "\\" not in text
        and text[1:-1].find(text[0]) < 0
    )
