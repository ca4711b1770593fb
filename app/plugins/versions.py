"""Plugin versions (semver) and the ranges a ``script`` node may ask for.

A range is one of: an exact version (``1.2.0``), ``^1.2.0`` (same major:
``>=1.2.0 <2.0.0``; for ``0.x`` the same minor), ``~1.2.0`` (same minor),
a partial version (``1`` or ``1.2``: anything it prefixes), ``*`` (any), or
comparisons separated by spaces (``>=1.2.0 <1.5.0``). The newest version in
range wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import semver

_PARTIAL = re.compile(r"^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$")
_COMPARISON = re.compile(r"^(>=|<=|>|<|==|!=)(.+)$")


class BadRange(ValueError):
    """A version or range that cannot be read; the message says what is allowed."""


def parse_version(text: str) -> semver.Version:
    """A semantic version (``1.2.0``, ``1.2.0-rc.1``).

    Raises:
        BadRange: not a semantic version.
    """
    try:
        return semver.Version.parse(text)
    except (ValueError, TypeError):
        raise BadRange(
            f"{text!r} is not a semantic version: write MAJOR.MINOR.PATCH, such as 1.2.0"
        ) from None


@dataclass(frozen=True)
class Range:
    """Comparisons a version must all pass (``(">=", 1.2.0)``, ...)."""

    text: str
    bounds: tuple[tuple[str, semver.Version], ...]

    def admits(self, version: semver.Version) -> bool:
        """Whether ``version`` is in range (a pre-release only when named exactly)."""
        if version.prerelease and not any(
            op == "==" and bound == version for op, bound in self.bounds
        ):
            return False
        return all(version.match(f"{op}{bound}") for op, bound in self.bounds)

    def newest(self, versions: Iterable[str]) -> str | None:
        """The highest of ``versions`` in range, if any."""
        admitted = [parse_version(v) for v in versions if self.admits(parse_version(v))]
        return str(max(admitted)) if admitted else None


def parse_range(text: str) -> Range:
    """The range ``text`` names.

    Raises:
        BadRange: naming what was wrong and what ranges look like.
    """
    spec = text.strip()
    if spec in ("", "*", "latest"):
        return Range(text, ())
    if spec[0] in "^~":
        low = _full(spec[1:])
        high = low.bump_minor() if spec[0] == "~" or low.major == 0 else low.bump_major()
        return Range(text, ((">=", low), ("<", high)))
    partial = _PARTIAL.match(spec)
    if partial:
        major, minor = int(partial.group(1)), partial.group(2)
        low = semver.Version(major, int(minor or 0), 0)
        high = low.bump_minor() if minor is not None else low.bump_major()
        return Range(text, ((">=", low), ("<", high)))
    if " " not in spec and not _COMPARISON.match(spec):
        return Range(text, (("==", parse_version(spec)),))
    bounds: list[tuple[str, semver.Version]] = []
    for part in spec.split():
        comparison = _COMPARISON.match(part)
        if comparison is None:
            raise BadRange(
                f"{text!r}: {part!r} is not a comparison; a range is 1.2.0, ^1.2.0, ~1.2.0, "
                "1, 1.2, * or comparisons such as '>=1.2.0 <2.0.0'"
            )
        bounds.append((comparison.group(1), _full(comparison.group(2))))
    return Range(text, tuple(bounds))


def _full(text: str) -> semver.Version:
    """``1``, ``1.2`` or ``1.2.3`` as a version, missing numbers zero."""
    partial = _PARTIAL.match(text)
    if partial:
        return semver.Version(int(partial.group(1)), int(partial.group(2) or 0), 0)
    return parse_version(text)


def split_reference(reference: str) -> tuple[str, str]:
    """``name@range`` as ``(name, range)``; a bare name means the newest version.

    Raises:
        BadRange: no name before the ``@``.
    """
    name, _, wanted = reference.partition("@")
    if not name.strip():
        raise BadRange(f"{reference!r}: name the plugin, as name@1.2.0 or name@^1.2")
    return name.strip().lower(), wanted.strip()
