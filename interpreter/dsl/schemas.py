"""Every JSON Schema in FlowForge: 2020-12, local references only, never any I/O.

A ``$ref`` that names a URL or a file would make whoever validates fetch it:
an SSRF path around the egress guard, a stall of the API on a slow target,
and validation that depends on a third party. So a schema may reference only
itself (``#...``) or the built-in 2020-12 meta-schemas, which ship with
jsonschema. :func:`reference_problems` finds every other reference (at save);
:func:`schema_errors` refuses them again at run time, for definitions saved
before this rule and runs started straight on Temporal, and resolves with a
registry that cannot retrieve anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urldefrag

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource, Unresolvable

from interpreter.dsl.pointer import pointer

__all__ = [
    "META_SCHEMAS",
    "Reference",
    "SchemaRefused",
    "reference_problems",
    "schema_errors",
]

_DRAFT = "https://json-schema.org/draft/2020-12"
META_SCHEMAS = frozenset(
    {f"{_DRAFT}/schema"}
    | {
        f"{_DRAFT}/meta/{vocabulary}"
        for vocabulary in (
            "core",
            "applicator",
            "unevaluated",
            "validation",
            "meta-data",
            "format-annotation",
            "format-assertion",
            "content",
        )
    }
)
"""The 2020-12 meta-schemas jsonschema ships: the only references allowed outside ``#``."""

_REF_KEYWORDS = ("$ref", "$dynamicRef", "$recursiveRef")
# Keywords whose values are data, not schemas: a "$ref" key inside them is not a reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
# Keywords whose values map names (not keywords) to schemas.
_NAMED_SCHEMAS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)

_LOCAL_ONLY = (
    "only local references (#...) are allowed: put the referenced schema under $defs "
    "and point at it with #/$defs/NAME"
)
_META_ONLY = (
    "only the built-in JSON Schema 2020-12 meta-schema is allowed: "
    "use https://json-schema.org/draft/2020-12/schema or leave $schema out"
)


@dataclass(frozen=True)
class Reference:
    """A reference a schema may not hold.

    Attributes:
        path: Where it is in the schema (JSON pointer parts, ending with the keyword).
        keyword: ``$ref``, ``$dynamicRef``, ``$recursiveRef`` or ``$schema``.
        target: The URI it names.
    """

    path: tuple[str | int, ...]
    keyword: str
    target: str

    @property
    def message(self) -> str:
        """What is wrong and what to do."""
        advice = _META_ONLY if self.keyword == "$schema" else _LOCAL_ONLY
        return f"{self.keyword} {self.target!r} is refused; {advice}"


class SchemaRefused(ValueError):
    """A schema holds a reference that is not local, or one that does not resolve.

    Attributes:
        keyword: The keyword holding it (``$ref`` for one found only on resolving).
        ref: The URI it names.
        path: JSON pointer of the keyword in the schema (``""`` if not known).
    """

    def __init__(self, keyword: str, ref: str, path: str, message: str) -> None:
        """Build the error; ``message`` says what to do."""
        super().__init__(f"{path or '/'}: {message}")
        self.keyword = keyword
        self.ref = ref
        self.path = path


def reference_problems(schema: Any) -> list[Reference]:
    """Every reference in ``schema`` that would leave the document, in document order.

    Allowed: ``#...`` (and ``""``), which resolve against the schema itself or
    a resource embedded in it, and the built-in 2020-12 meta-schemas. Any other
    target is refused, relative ones too (against an ``$id`` they would name
    another document).
    """
    return list(_walk(schema, ()))


def schema_errors(
    schema: dict[str, Any] | bool, value: Any, *, formats: bool
) -> list[ValidationError]:
    """Every error of ``value`` against ``schema`` (2020-12), with no network or disk I/O.

    Args:
        schema: The schema.
        value: The instance to check.
        formats: Whether ``format`` is asserted.

    Raises:
        SchemaRefused: ``schema`` holds a non-local reference, or a local one
            that does not resolve.
    """
    problems = reference_problems(schema)
    if problems:
        first = problems[0]
        raise SchemaRefused(first.keyword, first.target, pointer(first.path), first.message)
    validator = Draft202012Validator(
        schema,
        registry=_NO_RETRIEVAL,
        format_checker=Draft202012Validator.FORMAT_CHECKER if formats else None,
    )
    try:
        return list(validator.iter_errors(value))
    except Unresolvable as exc:
        raise SchemaRefused(
            "$ref",
            exc.ref,
            "",
            f"$ref {exc.ref!r} does not resolve within the schema; {_LOCAL_ONLY}",
        ) from None


def _walk(schema: Any, path: tuple[str | int, ...]) -> Iterator[Reference]:
    if isinstance(schema, list):
        for index, item in enumerate(schema):
            yield from _walk(item, (*path, index))
        return
    if not isinstance(schema, dict):
        return
    for key, value in schema.items():
        where = (*path, key)
        if isinstance(value, str) and _refused(key, value):
            yield Reference(where, key, value)
        elif key in _NAMED_SCHEMAS and isinstance(value, dict):
            for name, sub in value.items():
                yield from _walk(sub, (*where, name))
        elif key not in _DATA_KEYWORDS:
            # Unknown keywords are walked too: refusing there costs nothing.
            yield from _walk(value, where)


def _refused(keyword: str, target: str) -> bool:
    if keyword == "$schema":
        return not _meta(target)
    return keyword in _REF_KEYWORDS and not (
        target == "" or target.startswith("#") or _meta(target)
    )


def _meta(uri: str) -> bool:
    return urldefrag(uri).url in META_SCHEMAS


def _refuse(uri: str) -> Resource[Any]:
    # Reached only if the walk above missed a reference: still no I/O.
    raise NoSuchResource(ref=uri)  # type: ignore[call-arg]


# referencing's attrs-generated initialisers are invisible to mypy, hence the ignore.
_NO_RETRIEVAL: Registry[Any] = Registry(retrieve=_refuse)  # type: ignore[call-arg]
