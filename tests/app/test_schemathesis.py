"""Property-based requests against /openapi.json: no 5xx, and only documented answers.

The app is served by uvicorn on a free local port, on its own thread and
event loop; generated path ids are pointed at real objects half of the time
so that requests get past the 404s into the routes' logic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from temporalio.worker import Worker

from app.main import create_app
from app.settings import Settings
from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, served_by_uvicorn

ROUTES = r"^/api/v1/(workflows|runs)"
# No 5xx, and every answer (errors included) is one the OpenAPI document declares.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(settings: Settings) -> Iterator[str]:
    """The session's app served by uvicorn on a free local port, on its own thread.

    A bulk redrive answers once its batch is done or its wait is over: a short
    wait keeps each generated request well inside the client's read timeout.
    """
    quick = settings.model_copy(update={"redrive_wait_seconds": 1.0})
    with served_by_uvicorn(create_app(quick)) as url:
        yield url


@pytest.fixture(scope="module")
def targets(served: str, worker: Worker) -> dict[str, Any]:
    """An admin's bearer headers, and a real workflow and run of the admin's."""
    with httpx.Client(base_url=served) as http:
        token = http.post(
            "/api/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        definition = {
            "name": "schemathesis-target",
            "nodes": [{"id": "hold", "type": "wait", "config": {"duration": "1h"}}],
        }
        workflow = http.post("/api/v1/workflows", json={"definition": definition}, headers=headers)
        assert workflow.status_code == 201, workflow.text
        run = http.post(f"/api/v1/workflows/{workflow.json()['id']}/runs", json={}, headers=headers)
        assert run.status_code == 202, run.text
    return {
        "headers": headers,
        "workflow_id": workflow.json()["id"],
        "run_id": run.json()["run_id"],
    }


@pytest.fixture(scope="module")
def api_schema(served: str) -> Any:
    return schemathesis.openapi.from_url(f"{served}/openapi.json").include(path_regex=ROUTES)


def _cases(operation: Any) -> Any:
    """Valid and invalid requests for one operation."""
    return st.one_of(
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    )


def _check_every_operation(api_schema: Any, targets: dict[str, Any]) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 14  # every workflow and run route is covered

    for operation in operations:

        @given(case=_cases(operation))
        @settings(
            max_examples=7,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            params = case.path_parameters or {}
            for name in ("workflow_id", "run_id"):
                if name in params and hash(str(params[name])) % 2 == 0:
                    params[name] = targets[name]
            case.call_and_validate(headers=targets["headers"], checks=CHECKS)

        no_server_error()


async def test_no_request_makes_a_server_error(api_schema: Any, targets: dict[str, Any]) -> None:
    # Requests are blocking; on a thread of their own they leave this event loop
    # free to run the worker that answers the runs' status queries.
    await asyncio.to_thread(_check_every_operation, api_schema, targets)
