"""Which API key scope each route needs: the one place that decides it.

An access token may do all its user's role allows; an API key only what its
scopes allow on top of that (:class:`app.db.models.api_key.Scope`). The rule
goes by method and route template, so a new route is covered the day it is added:
reads need ``read``, starting and steering runs needs ``run``, any other change
needs ``manage``.
"""

from __future__ import annotations

import re

from app.db.models.api_key import Scope

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Route templates (not request paths), so an id can never make a route look like another.
_RUN_ROUTES = re.compile(
    r"/workflows/\{workflow_id\}/runs$"
    r"|/runs/\{run_id\}/"
    r"|^/api/v1/runs/redrive$"
    r"|^/api/v1/failures/\{run_id\}/dismiss$"
    r"|/schedules/\{schedule_id\}/trigger$"
    r"|^/api/v1/events$"
)
# Posts that change nothing: checking a definition, ending one's own session.
_READ_POSTS = re.compile(r"/workflows/validate$|/auth/logout$")


def scope_needed(method: str, route: str) -> Scope:
    """The scope an API key needs for ``method`` on the route template ``route``."""
    if method.upper() in _READ_METHODS or _READ_POSTS.search(route):
        return Scope.READ
    if _RUN_ROUTES.search(route):
        return Scope.RUN
    return Scope.MANAGE
