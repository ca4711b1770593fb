"""What a test run is: mocks for some nodes, the nodes allowed to run for real.

A test run (``POST /workflows/test``) carries a :class:`TestSpec` in its
``RunMeta``, which every for_each batch copies, so mocks reach loop bodies run
in child workflows too. A node with a mock answers from it in workflow code
(no activity, no child); a node with side effects and no mock is refused with
``NotMocked`` unless ``run_for_real`` names it.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

SIDE_EFFECT_TYPES = frozenset({"http", "webhook", "script", "sub_workflow"})
"""Node types that act outside the run: a test run refuses them unless mocked or run for real."""

NOT_MOCKED = "NotMocked"
"""The error type of a side-effect node a test run refused to run."""

MAX_MOCKS = 500
MAX_SEQUENCE = 100

_INDEX = re.compile(r"\[\d+\]")


def wildcard(path: str) -> str:
    """``path`` with every for_each item index as ``[*]`` (``loop[3].call`` -> ``loop[*].call``)."""
    return _INDEX.sub("[*]", path)


class MockError(BaseModel):
    """The error a mocked node fails with, as a real one would (``type`` is what edges read)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=200)
    message: str = Field(default="mocked failure", max_length=4000)
    details: dict[str, Any] = Field(default_factory=dict)


class MockStep(BaseModel):
    """One answer of a mock: ``output`` (null if left out) or ``error``."""

    model_config = ConfigDict(extra="forbid")

    output: Any = None
    error: MockError | None = None

    @model_validator(mode="after")
    def _one(self) -> MockStep:
        # Judged on values, not on which keys were sent: a stored run dumps every field.
        if self.error is not None and self.output is not None:
            raise ValueError("give one of `output` or `error`, not both")
        return self


class Mock(BaseModel):
    """How a mocked node answers: ``output`` (null if left out), ``error``, or a ``sequence``.

    A ``sequence`` answers successive attempts of one execution of the node:
    an ``error`` entry is retried as the node's ``retry`` block says (its
    backoff a durable timer, ``non_retryable_errors`` honoured), the next
    attempt takes the next entry, and the last entry repeats.
    """

    model_config = ConfigDict(extra="forbid")

    output: Any = None
    error: MockError | None = None
    sequence: list[MockStep] | None = Field(default=None, min_length=1, max_length=MAX_SEQUENCE)

    @model_validator(mode="after")
    def _one(self) -> Mock:
        # Judged on values, not on which keys were sent: a stored run dumps every field.
        given = [self.output is not None, self.error is not None, self.sequence is not None]
        if sum(given) > 1:
            raise ValueError("give one of `output`, `error` or `sequence`")
        return self

    def steps(self) -> list[MockStep]:
        """The answers of successive attempts (one for ``output`` or ``error``)."""
        if self.sequence is not None:
            return self.sequence
        if self.error is not None:
            return [MockStep(error=self.error)]
        return [MockStep(output=self.output)]


class TestSpec(BaseModel):
    """The mocks and real nodes of a test run, keyed by node path.

    A key is a node's path in the run: ``call`` at the top, ``loop[*].call``
    for every item of for_each ``loop`` (``loop[2].call`` for item 2 only,
    which wins over the ``[*]`` key).
    """

    __test__ = False  # not a pytest test class, whatever its name

    model_config = ConfigDict(extra="forbid")

    mocks: dict[str, Mock] = Field(default_factory=dict, max_length=MAX_MOCKS)
    run_for_real: list[str] = Field(default_factory=list, max_length=MAX_MOCKS)

    def mock_for(self, path: str) -> Mock | None:
        """The mock of the node at ``path``: its own key first, then its ``[*]`` form."""
        return self.mocks.get(path) or self.mocks.get(wildcard(path))

    def runs_for_real(self, path: str) -> bool:
        """Whether the node at ``path`` may act for real although the run is a test."""
        return path in self.run_for_real or wildcard(path) in self.run_for_real


class NodeTest(BaseModel):
    """What a test run records of one node it carried out (the ``test_report`` query).

    Attributes:
        mocked: The node answered from its mock; nothing was sent.
        config: The config as rendered for the node (the request an http node
            sends), holes that read ``secrets`` left unrendered so no secret
            value shows; None for nodes whose config is not rendered whole
            (for_each, wait, ...).
        refused: The node had side effects, no mock and no ``run_for_real``.
    """

    mocked: bool = False
    refused: bool = False
    config: Any = None


class EdgeTaken(BaseModel):
    """One edge in a test report, by node paths: whether it was taken, and why.

    A top-level edge, or a for_each body edge of one item run inline
    (``loop[0].a`` to ``loop[0].b``).

    Attributes:
        taken: True or false once its source ended; None while it has not.
        why: The source's outcome against the edge's ``on`` and ``when``.
    """

    source: str
    target: str
    taken: bool | None
    why: str


class TestReport(BaseModel):
    """What the ``test_report`` query answers: each node carried out, by path, and the edges."""

    __test__ = False

    nodes: dict[str, NodeTest] = Field(default_factory=dict)
    edges: list[EdgeTaken] = Field(default_factory=list)
    edges_left_off: int = 0
    """for_each body edges past ``RunOptions.test_report_max_edges``, not in ``edges``."""
