"""Every route needs one API key scope: reads ``read``, runs ``run``, other changes ``manage``."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.api.scopes import scope_needed
from app.db.models.api_key import Scope
from app.main import create_app
from tests.support.api import make_settings

pytestmark = pytest.mark.fast

RUN_ROUTES = {
    ("POST", "/api/v1/workflows/{workflow_id}/runs"),
    ("POST", "/api/v1/runs/{run_id}/pause"),
    ("POST", "/api/v1/runs/{run_id}/resume"),
    ("POST", "/api/v1/runs/{run_id}/cancel"),
    ("POST", "/api/v1/runs/{run_id}/terminate"),
    ("POST", "/api/v1/runs/{run_id}/signals/{name}"),
    ("POST", "/api/v1/runs/{run_id}/nodes/{node_id}/retry"),
    ("POST", "/api/v1/runs/{run_id}/nodes/{node_id}/skip"),
    ("POST", "/api/v1/runs/{run_id}/rerun"),
    ("POST", "/api/v1/runs/{run_id}/step"),
    ("PUT", "/api/v1/runs/{run_id}/breakpoints"),
    ("POST", "/api/v1/runs/redrive"),
    ("POST", "/api/v1/failures/{run_id}/dismiss"),
    ("POST", "/api/v1/schedules/{schedule_id}/trigger"),
    ("POST", "/api/v1/events"),
}
READ_POSTS = {("POST", "/api/v1/workflows/validate"), ("POST", "/api/v1/auth/logout")}


def test_each_route_needs_the_scope_of_what_it_does(tmp_path: Path) -> None:
    settings = make_settings("postgresql+asyncpg://u@127.0.0.1/none", "127.0.0.1:1", tmp_path)
    operations = {
        (method.upper(), path)
        for path, methods in create_app(settings).openapi()["paths"].items()
        for method in methods
    }
    assert operations >= RUN_ROUTES | READ_POSTS
    for method, path in operations:
        if method == "GET" or (method, path) in READ_POSTS:
            expected = Scope.READ
        elif (method, path) in RUN_ROUTES:
            expected = Scope.RUN
        else:
            expected = Scope.MANAGE
        assert scope_needed(method, path) == expected, (method, path)
