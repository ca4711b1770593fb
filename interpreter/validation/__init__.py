"""Save-time checks of a definition: every problem at once, each at its JSON pointer.

``validate_definition`` (in ``definition``) is the entry point; ``dag`` checks
one graph (the top level or a for_each body), ``configs`` each node's config
against its node type, ``expressions`` every CEL expression and hole, and
``issues`` holds the :class:`ValidationIssue` they all report.
"""

from __future__ import annotations

from interpreter.validation.definition import Limits, validate_definition
from interpreter.validation.issues import ValidationIssue

__all__ = ["Limits", "ValidationIssue", "validate_definition"]
