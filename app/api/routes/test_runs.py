"""Test runs: ``POST /workflows/test`` runs a workflow with chosen nodes mocked."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import BaseModel, Field
from temporalio.client import WorkflowQueryFailedError
from temporalio.service import RPCError

from app.api.deps import EditorUser, SessionDep, StateDep, TemporalDep
from app.api.routes.runs.read import read_run
from app.runs.reading import describe
from app.runs.schemas import RunDetail
from app.runs.test_runs import TestRunCreate, start_test_run
from interpreter.contract.client import TEST_REPORT_QUERY
from interpreter.contract.testing import EdgeTaken, NodeTest, TestReport

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/workflows", tags=["workflows"])

POLL_SECONDS = 0.2


class TestRunAccepted(BaseModel):
    """A test run that started: follow it as any run (``GET /runs/{run_id}``)."""

    __test__ = False

    run_id: str
    test: bool = True


class TestRunDetail(RunDetail):
    """A test run with, per node it carried out (by path), what it would have sent.

    Attributes:
        tested: ``mocked`` (answered by its mock, nothing sent), ``refused``
            (``NotMocked``) and ``config``: the config as rendered for the
            node (an http node's method, url, headers and body), every
            ``{{ secrets.x }}`` hole left as written so no secret shows.
        edges: Each top-level edge, then each body edge of every for_each
            item run inline, by node path (``loop[0].a`` to ``loop[0].b``):
            ``taken`` and ``why`` (the source's outcome against the edge's
            ``on`` and ``when``). Items run in batches (child runs) are not in it.
        edges_left_off: Body edges past ``FLOWFORGE_TEST_REPORT_MAX_EDGES``, not in ``edges``.
    """

    __test__ = False

    test: bool = True
    tested: dict[str, NodeTest] = Field(default_factory=dict)
    edges: list[EdgeTaken] = Field(default_factory=list)
    edges_left_off: int = 0


@router.post(
    "/test",
    status_code=status.HTTP_202_ACCEPTED,
    responses={200: {"model": TestRunDetail, "description": "With wait=true: the run at its end"}},
)
async def test_workflow(
    user: EditorUser,
    state: StateDep,
    session: SessionDep,
    temporal: TemporalDep,
    body: TestRunCreate,
    request: Request,
    response: Response,
    wait: Annotated[
        bool,
        Query(
            description=(
                "Answer 200 with the finished run (waiting at most "
                "FLOWFORGE_TEST_RUN_WAIT_SECONDS)."
            )
        ),
    ] = False,
) -> TestRunAccepted | TestRunDetail:
    """Run a stored version, a draft or a bare definition, mocked nodes answering from their mock.

    Without ``workflow_id``, ``definition`` is tested bare: the run belongs to
    the caller (only they and admins can read it) and to no workflow.

    Side-effect nodes (http, webhook, script, sub_workflow) without a mock fail
    with ``NotMocked`` unless ``run_for_real`` names them. Test runs are left
    out of run lists (``GET /runs?test=true`` shows them), the failures inbox
    and metrics, and are kept for ``FLOWFORGE_TEST_RUN_RETENTION_SECONDS``.
    """
    launched = await start_test_run(
        client=temporal, session=session, state=state, user=user, body=body
    )
    run_id = launched.started.run_id
    if not wait:
        return TestRunAccepted(run_id=run_id)
    rpc_timeout = state.temporal.rpc_timeout
    deadline = asyncio.get_running_loop().time() + state.settings.test_run_wait_seconds
    while asyncio.get_running_loop().time() < deadline:
        description = await describe(temporal, run_id, rpc_timeout)
        if description is not None and description.close_time is not None:
            break
        await asyncio.sleep(POLL_SECONDS)
    detail = await read_run(run_id, user, state, session, temporal, request)
    report = TestReport()
    try:
        report = await temporal.get_workflow_handle(run_id).query(
            TEST_REPORT_QUERY,
            result_type=TestReport,
            rpc_timeout=state.temporal.query_timeout,
        )
    except (WorkflowQueryFailedError, RPCError) as exc:  # no worker answered: the run alone
        logger.warning("test report of run %s unavailable: %s", run_id, exc)
    response.status_code = status.HTTP_200_OK
    return TestRunDetail(
        **detail.model_dump(),
        tested=report.nodes,
        edges=report.edges,
        edges_left_off=report.edges_left_off,
    )
