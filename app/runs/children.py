"""Pinning every ``sub_workflow`` target of a run when it starts.

The interpreter reads child definitions only from ``RunInput.children``, so
the starter resolves them all, transitively, and the run never depends on
what the store holds later.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.users import get_user
from app.db.models.user import User
from app.db.models.workflow import Workflow
from app.errors import ApiError
from app.plugins.pinning import pin_plugins
from app.workflows.sub_workflows import BadReference, ChildRef, Target, child_refs, find_target
from interpreter.contract.run import PinnedWorkflow, child_key
from interpreter.dsl.definition import Definition

Ident = tuple[str, int]
"""A workflow version: (workflow id, version number)."""


def _refused(bad: BadReference) -> ApiError:
    return ApiError(422, bad.message, errors=[bad.item()])


@dataclass
class _Pinner:
    """Walks the call graph depth first; a workflow version already on the way down is a cycle."""

    session: AsyncSession
    reader: User
    max_depth: int
    children: dict[str, PinnedWorkflow] = field(default_factory=dict)
    heights: dict[Ident, int] = field(default_factory=dict)
    """How many levels of sub_workflows each visited version has below it."""

    async def target(self, ref: ChildRef, path: str, entry: str) -> tuple[Ident, PinnedWorkflow]:
        key = child_key(str(ref.workflow_id), ref.version)
        pinned = self.children.get(key)
        if pinned is None:
            try:
                found: Target = await find_target(self.session, ref, self.reader, node_path=path)
            except BadReference as bad:
                # Errors point into the submitted definition: at the node that leads there.
                raise BadReference(entry or bad.pointer, bad.message, bad.code) from None
            stored = Definition.model_validate(found.version.definition)
            pinned = PinnedWorkflow(
                workflow_id=str(found.workflow.id),
                version=found.version.version,
                # A child runs its own owner's plugins, as its definition was written against.
                definition=await pin_plugins(self.session, stored, found.workflow.owner_id),
            )
            self.children[key] = pinned
        return (pinned.workflow_id, pinned.version), pinned

    async def height(
        self, definition: Definition, chain: tuple[Ident, ...], where: str, entry: str
    ) -> int:
        """Levels of sub_workflows below ``definition``, the last of ``chain``."""
        tallest = 0
        for ref in child_refs(definition.nodes):
            path = f"{where}{ref.node_path}"
            origin = entry or f"{ref.pointer}/workflow_id"
            ident, pinned = await self.target(ref, path, entry)
            if ident in chain:
                raise BadReference(
                    origin,
                    f"sub_workflow node {path!r} calls workflow {ident[0]} v{ident[1]}, which "
                    "is already on the chain of calls that leads there: sub_workflows must not "
                    "call each other in a cycle",
                    "sub_workflow_cycle",
                )
            below = self.heights.get(ident)
            if below is None:
                if len(chain) > self.max_depth:
                    raise self.too_deep(origin, path)
                below = await self.height(pinned.definition, (*chain, ident), f"{path} > ", origin)
            # The child runs len(chain) levels down; its own sub_workflows go ``below`` further.
            if len(chain) + below > self.max_depth:
                raise self.too_deep(origin, path)
            tallest = max(tallest, below + 1)
        self.heights[chain[-1]] = tallest
        return tallest

    def too_deep(self, origin: str, path: str) -> BadReference:
        return BadReference(
            origin,
            f"sub_workflow node {path!r} nests sub_workflows more than {self.max_depth} "
            "levels deep, the server's limit",
            "sub_workflow_depth",
        )


async def pin_children(
    *,
    session: AsyncSession,
    definition: Definition,
    root: Ident,
    reader: User,
    max_depth: int,
) -> dict[str, PinnedWorkflow]:
    """Every sub_workflow target reachable from ``definition``, keyed for ``RunInput.children``.

    Args:
        session: Where the target workflows and their versions are read.
        definition: The definition being started; its targets' sub_workflows are followed too.
        root: The version being started (so a child calling it back is a cycle).
        reader: Whose rights decide which workflows may be called (the run's owner).
        max_depth: How deep sub_workflows may nest.

    Raises:
        ApiError: 422 naming the node path and the workflow id of a target that
            does not exist, may not be read, closes a cycle or nests too deep.
    """
    pinner = _Pinner(session=session, reader=reader, max_depth=max_depth)
    try:
        await pinner.height(definition, (root,), "", "")
    except BadReference as bad:
        raise _refused(bad) from None
    return pinner.children


async def children_of_run(
    *,
    session: AsyncSession,
    workflow: Workflow,
    version: int,
    definition: Definition,
    max_depth: int,
) -> dict[str, PinnedWorkflow]:
    """:func:`pin_children` for a run of ``workflow`` at ``version``, with its owner's rights.

    The run belongs to the workflow's owner whoever starts it, so the owner's
    rights decide which workflows it may call.
    """
    if next(child_refs(definition.nodes), None) is None:
        return {}
    owner = await get_user(session=session, user_id=workflow.owner_id)
    if owner is None:  # the foreign key makes this unreachable
        raise ApiError(500, f"workflow {workflow.id} has no owner")
    return await pin_children(
        session=session,
        definition=definition,
        root=(str(workflow.id), version),
        reader=owner,
        max_depth=max_depth,
    )
