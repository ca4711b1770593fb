"""One problem found in a definition."""

from __future__ import annotations

from pydantic import BaseModel


class ValidationIssue(BaseModel):
    """Attributes:
    path: JSON pointer into the definition (``/nodes/2/config/url``).
    code: Machine-readable kind of problem (see :mod:`interpreter.validation`).
    message: What is wrong and what to do, naming the node or field.
    """

    path: str
    code: str
    message: str
