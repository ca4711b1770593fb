"""Finding the ``sub_workflow`` nodes of a definition and the workflows they name.

A run never reads the store, so every target is resolved (and pinned) by the
API: at save time to catch a bad reference early, and again at each run start.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.workflows import get_version, get_workflow
from app.db.models.user import User
from app.db.models.workflow import Workflow, WorkflowVersion
from app.errors import ErrorItem
from app.ownership import may_access
from interpreter.dsl.definition import Node
from interpreter.nodes import SUB_WORKFLOW, walk

UNKNOWN_REFERENCE = "unknown_reference"


@dataclass(frozen=True)
class ChildRef:
    """One ``sub_workflow`` node.

    Attributes:
        node_path: ``call``, or ``loop[*].call`` inside a for_each body.
        pointer: JSON pointer to the node's config in its definition.
        workflow_id: The config's ``workflow_id`` as written.
        version: The config's ``version`` as written (None: the active one).
    """

    node_path: str
    pointer: str
    workflow_id: Any
    version: Any


@dataclass(frozen=True)
class Target:
    """A ``sub_workflow`` target as stored: the workflow and the version a run pins."""

    workflow: Workflow
    version: WorkflowVersion


class BadReference(Exception):
    """A ``sub_workflow`` target that cannot be used; ``pointer`` locates it."""

    def __init__(self, pointer: str, message: str, code: str = UNKNOWN_REFERENCE) -> None:
        super().__init__(message)
        self.pointer = pointer
        self.message = message
        self.code = code

    def item(self) -> ErrorItem:
        """The problem as an item of the API's error answer."""
        return ErrorItem(path=self.pointer, code=self.code, message=self.message)


def child_refs(nodes: list[Node]) -> Iterator[ChildRef]:
    """Every sub_workflow node of ``nodes``, including those in for_each bodies."""
    for placed in walk(nodes):
        if placed.kind is SUB_WORKFLOW:
            yield ChildRef(
                node_path=placed.path,
                pointer=f"{placed.pointer}/config",
                workflow_id=placed.node.config.get("workflow_id"),
                version=placed.node.config.get("version"),
            )


def _literal_id(ref: ChildRef) -> uuid.UUID | None:
    """The referenced workflow's id; None if it is not the id of any workflow."""
    if not isinstance(ref.workflow_id, str):
        return None
    try:
        return uuid.UUID(ref.workflow_id)
    except ValueError:
        return None


def _check_literal(ref: ChildRef) -> None:
    if isinstance(ref.workflow_id, str) and "{{" in ref.workflow_id:
        raise BadReference(
            f"{ref.pointer}/workflow_id",
            f"sub_workflow node {ref.node_path!r}: workflow_id must be a workflow's id, "
            "not a template (targets are resolved when a run starts)",
        )
    version = ref.version
    if version is not None and (
        isinstance(version, bool) or not isinstance(version, int) or version < 1
    ):
        raise BadReference(
            f"{ref.pointer}/version",
            f"sub_workflow node {ref.node_path!r}: version must be a version number "
            "(or left out for the active version), not a template",
        )


async def find_target(
    session: AsyncSession, ref: ChildRef, reader: User, *, node_path: str | None = None
) -> Target:
    """The workflow version ``ref`` names, if ``reader`` may read it.

    Errors name the node by ``node_path`` if given, else by ``ref.node_path``.

    Raises:
        BadReference: a template, or no such workflow or version, or not readable.
    """
    _check_literal(ref)
    named = node_path or ref.node_path
    workflow_id = _literal_id(ref)
    workflow = await get_workflow(session=session, workflow_id=workflow_id) if workflow_id else None
    if workflow is None or not may_access(reader, workflow.owner_id):
        raise BadReference(
            f"{ref.pointer}/workflow_id",
            f"sub_workflow node {named!r} calls workflow {ref.workflow_id!r}, which does not "
            f"exist or which {reader.username} may not read",
        )
    number = ref.version if ref.version is not None else workflow.active_version
    row = await get_version(session=session, workflow_id=workflow.id, version=number)
    if row is None:
        raise BadReference(
            f"{ref.pointer}/version",
            f"sub_workflow node {named!r} asks for version {number} of workflow "
            f"{ref.workflow_id!r}, which has no such version",
        )
    return Target(workflow=workflow, version=row)


async def reference_errors(
    session: AsyncSession, nodes: list[Node], reader: User
) -> list[ErrorItem]:
    """A problem per sub_workflow node of ``nodes`` whose target ``reader`` cannot use."""
    errors: list[ErrorItem] = []
    for ref in child_refs(nodes):
        try:
            await find_target(session, ref, reader)
        except BadReference as bad:
            errors.append(bad.item())
    return errors
