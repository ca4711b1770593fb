"""Route dependencies that load a workflow the caller may read or edit (see ``app.ownership``).

Write dependencies check the role first, so a viewer gets 403 whoever owns the object.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.api.deps import CurrentUser, EditorUser, SessionDep
from app.db.crud.workflows import get_workflow
from app.db.models.user import User
from app.db.models.workflow import Workflow
from app.ownership import may_access, workflow_not_found


async def _visible_workflow(session: SessionDep, workflow_id: uuid.UUID, user: User) -> Workflow:
    workflow = await get_workflow(session=session, workflow_id=workflow_id)
    if workflow is None or not may_access(user, workflow.owner_id):
        raise workflow_not_found(workflow_id)
    return workflow


async def readable_workflow(
    workflow_id: uuid.UUID, session: SessionDep, user: CurrentUser
) -> Workflow:
    """The path's workflow, if the caller owns it or is an admin (404 otherwise)."""
    return await _visible_workflow(session, workflow_id, user)


async def editable_workflow(
    workflow_id: uuid.UUID, session: SessionDep, user: EditorUser
) -> Workflow:
    """The path's workflow for a change: 403 for a viewer, then as :func:`readable_workflow`."""
    return await _visible_workflow(session, workflow_id, user)


ReadableWorkflow = Annotated[Workflow, Depends(readable_workflow)]
EditableWorkflow = Annotated[Workflow, Depends(editable_workflow)]
