"""Object-level access: owners and admins see an object; anyone else gets 404.

404 rather than 403 so that ids of other users' objects reveal nothing. Write
dependencies check the role first, so a viewer gets 403 whoever owns the object.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends

from app.api.deps import CurrentUser, EditorUser, SessionDep
from app.api.errors import ApiError
from app.db.crud.workflows import get_workflow
from app.db.models.user import Role, User
from app.db.models.workflow import Workflow


def may_access(user: User, owner_id: uuid.UUID | str | None) -> bool:
    return user.role == Role.ADMIN or str(owner_id) == str(user.id)


def workflow_not_found(workflow_id: uuid.UUID) -> ApiError:
    return ApiError(404, f"workflow {workflow_id} not found")


async def _visible_workflow(session: SessionDep, workflow_id: uuid.UUID, user: User) -> Workflow:
    workflow = await get_workflow(session=session, workflow_id=workflow_id)
    if workflow is None or not may_access(user, workflow.owner_id):
        raise workflow_not_found(workflow_id)
    return workflow


async def readable_workflow(
    workflow_id: uuid.UUID, session: SessionDep, user: CurrentUser
) -> Workflow:
    return await _visible_workflow(session, workflow_id, user)


async def editable_workflow(
    workflow_id: uuid.UUID, session: SessionDep, user: EditorUser
) -> Workflow:
    return await _visible_workflow(session, workflow_id, user)


ReadableWorkflow = Annotated[Workflow, Depends(readable_workflow)]
EditableWorkflow = Annotated[Workflow, Depends(editable_workflow)]
