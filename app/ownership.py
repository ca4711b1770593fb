"""Who may see an object: its owner and admins; anyone else is told it does not exist.

404 rather than 403 so that ids of other users' objects reveal nothing.
"""

from __future__ import annotations

import uuid

from app.db.models.user import Role, User
from app.errors import ApiError


def may_access(user: User, owner_id: uuid.UUID | str | None) -> bool:
    """True for an admin, and for the user who owns the object."""
    return user.role == Role.ADMIN or str(owner_id) == str(user.id)


def workflow_not_found(workflow_id: uuid.UUID) -> ApiError:
    """The answer for a workflow that does not exist or is not the caller's."""
    return ApiError(404, f"workflow {workflow_id} not found")
