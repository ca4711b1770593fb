"""Test runs: a workflow run on the real interpreter with chosen nodes mocked.

A test run is an ordinary run started through :func:`app.runs.launch.start_and_index`
(signed, indexed, counted against the owner's quotas) whose ``RunMeta`` says
``trigger: test`` and carries the mocks (:class:`~interpreter.contract.testing.TestSpec`).
Lists, the failures inbox and workflow metrics leave such runs out unless asked
(:func:`app.runs.reading.visibility_query`); after ``test_run_retention_seconds``
they are neither listed nor readable, and their index rows go at the owner's
next test run: that request is the one moment test runs are known to be in use,
so no periodic task has to run in every API process for them.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from app.core.state import AppState
from app.db.crud.workflows import get_workflow
from app.db.models.run import RunRecord
from app.db.models.user import User
from app.db.models.workflow import Workflow
from app.errors import ApiError, ErrorItem
from app.ownership import may_access, workflow_not_found
from app.runs.access import test_cutoff
from app.runs.children import children_of_run, pin_children
from app.runs.inputs import input_errors
from app.runs.launch import Launched, start_and_index, start_owned_and_index
from app.runs.pinning import pinned_run_input
from app.settings import Settings
from app.workflows.definitions import definition_errors
from app.workflows.sub_workflows import reference_errors
from interpreter.contract.run import RunInput, RunMeta
from interpreter.contract.testing import MAX_MOCKS, Mock, TestSpec, wildcard
from interpreter.dsl.definition import Definition
from interpreter.dsl.pointer import pointer
from interpreter.nodes import walk

TEST_TRIGGER = "test"
"""The ``FlowForgeTrigger`` of a test run (and of a child it runs for real)."""

BARE_VERSION = 1
"""The version a test run of a bare definition (no workflow) carries."""


class TestRunCreate(BaseModel):
    """Start a test run.

    Attributes:
        workflow_id: The workflow tested: its ``version`` (active one if
            omitted), or the unsaved ``definition`` as a draft of it. Without
            it, ``definition`` is tested bare: a definition never saved, whose
            run belongs to its starter and to no workflow.
        definition: A draft to test instead of a stored version; validated as a save is.
        input: The run input; checked against the definition's ``input_schema``.
        mocks: How nodes answer instead of running, by node path (``loop[*].call``
            inside a for_each body).
        run_for_real: Paths of side-effect nodes (http, webhook, script,
            sub_workflow) without a mock that run for real; every other is
            refused with ``NotMocked``.
    """

    __test__ = False

    model_config = ConfigDict(extra="forbid")

    workflow_id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    definition: dict[str, Any] | None = None
    input: Any = Field(default_factory=dict)
    mocks: dict[str, Mock] = Field(default_factory=dict, max_length=MAX_MOCKS)
    run_for_real: list[str] = Field(default_factory=list, max_length=MAX_MOCKS)


def spec_errors(definition: Definition, spec: TestSpec) -> list[ErrorItem]:
    """A problem per mock or ``run_for_real`` entry that names no node that could take it."""
    kinds = {placed.path: placed.kind for placed in walk(definition.nodes)}
    errors: list[ErrorItem] = []

    def check(path: str, key: str) -> None:
        kind = kinds.get(wildcard(key))
        if kind is None:
            message = "no node at this path (a for_each body node is written loop[*].call)"
            errors.append(ErrorItem(path=path, code="unknown_node", message=message))
        elif kind.evaluate is not None:
            message = f"a {kind.name} node is evaluated in the workflow itself: it cannot be mocked"
            errors.append(ErrorItem(path=path, code="not_mockable", message=message))

    for key in spec.mocks:
        check(pointer(["body", "mocks", key]), key)
    for index, key in enumerate(spec.run_for_real):
        where = pointer(["body", "run_for_real", index])
        check(where, key)
        if key in spec.mocks:
            message = "this node has a mock too: give one or the other"
            errors.append(ErrorItem(path=where, code="conflict", message=message))
    return errors


def _in_definition(errors: list[ErrorItem]) -> list[ErrorItem]:
    """``errors`` whose paths point into a definition, pointing into the body's ``definition``."""
    return [error.model_copy(update={"path": "/body/definition" + error.path}) for error in errors]


async def _draft_run_input(
    *,
    session: AsyncSession,
    settings: Settings,
    user: User,
    workflow_row: Workflow | None,
    body: TestRunCreate,
) -> RunInput:
    """A run input for ``body.definition``: a draft of the workflow at its newest version, or bare.

    A bare definition (no ``workflow_row``) runs as version 1 of no workflow,
    owned by ``user``, who alone (and admins) may read it.
    """
    definition, invalid = await definition_errors(body.definition, settings)
    if definition is None:
        raise ApiError(
            422,
            f"the definition is invalid ({len(invalid)} problem(s)); see errors",
            errors=_in_definition(invalid),
        )
    problems = _in_definition(await reference_errors(session, definition.nodes, user))
    problems += [
        error.model_copy(update={"path": "/body/input" + error.path})
        for error in input_errors(definition.input_schema, body.input)
    ]
    if problems:
        raise ApiError(
            422, f"the test run is invalid ({len(problems)} problem(s))", errors=problems
        )
    try:
        if workflow_row is None:
            children = await pin_children(
                session=session,
                definition=definition,
                root=("", BARE_VERSION),
                reader=user,
                max_depth=settings.run.max_sub_workflow_depth,
            )
        else:
            children = await children_of_run(
                session=session,
                workflow=workflow_row,
                version=workflow_row.version,
                definition=definition,
                max_depth=settings.run.max_sub_workflow_depth,
            )
    except ApiError as exc:
        exc.errors = _in_definition(exc.errors or [])
        raise
    if workflow_row is None:
        meta = RunMeta(
            workflow_id="", version=BARE_VERSION, owner=str(user.id), trigger=TEST_TRIGGER
        )
    else:
        meta = RunMeta(
            workflow_id=str(workflow_row.id),
            version=workflow_row.version,
            owner=str(workflow_row.owner_id),
            trigger=TEST_TRIGGER,
        )
    return RunInput(
        definition=definition,
        input=body.input,
        meta=meta,
        options=settings.run,
        children=children,
    )


async def forget_old_test_runs(
    *, session: AsyncSession, settings: Settings, owner_id: uuid.UUID
) -> None:
    """Delete the owner's test runs' index rows past their retention."""
    statement = delete(RunRecord).where(
        col(RunRecord.owner_id) == owner_id,
        col(RunRecord.trigger) == TEST_TRIGGER,
        col(RunRecord.created_at) < test_cutoff(settings),
    )
    await session.exec(statement)
    await session.commit()


def body_errors(body: TestRunCreate) -> list[ErrorItem]:
    """What the body lacks or has too much of, before anything is read."""
    if body.workflow_id is None:
        if body.definition is None:
            message = (
                "give workflow_id (a stored workflow), definition (a draft, bare without "
                "workflow_id) or both"
            )
            return [ErrorItem(path="/body/workflow_id", code="missing", message=message)]
        if body.version is not None:
            message = "a version is one of a stored workflow's: give its workflow_id"
            return [ErrorItem(path="/body/version", code="conflict", message=message)]
    elif body.definition is not None and body.version is not None:
        return [ErrorItem(path="/body/version", code="conflict", message="not both")]
    return []


async def start_test_run(
    *, client: Client, session: AsyncSession, state: AppState, user: User, body: TestRunCreate
) -> Launched:
    """Check ``body`` and start its test run.

    Raises:
        ApiError: 404 for a workflow the caller cannot see; 422 for a body
            with neither ``workflow_id`` nor ``definition`` (``/body/workflow_id``),
            a ``version`` with a ``definition`` or without a ``workflow_id``
            (``/body/version``), a draft that does not validate, an input that
            breaks the ``input_schema``, or a mock key naming no mockable node
            (``/body/mocks/<key>``); as :func:`start_and_index`.
    """
    settings = state.settings
    problems = body_errors(body)
    if problems:
        raise ApiError(422, problems[0].message, errors=problems)
    workflow: Workflow | None = None
    if body.workflow_id is not None:
        workflow = await get_workflow(session=session, workflow_id=body.workflow_id)
        if workflow is None or not may_access(user, workflow.owner_id):
            raise workflow_not_found(body.workflow_id)
    if body.definition is not None:
        run = await _draft_run_input(
            session=session, settings=settings, user=user, workflow_row=workflow, body=body
        )
    else:
        assert workflow is not None  # body_errors: no definition means a workflow_id
        run = await pinned_run_input(
            session=session,
            settings=settings,
            workflow=workflow,
            version=body.version,
            run_input=body.input,
            trigger=TEST_TRIGGER,
        )
    spec = TestSpec(mocks=body.mocks, run_for_real=body.run_for_real)
    errors = spec_errors(run.definition, spec)
    if errors:
        raise ApiError(
            422, f"the test run's mocks are invalid ({len(errors)} problem(s))", errors=errors
        )
    run = run.model_copy(update={"meta": run.meta.model_copy(update={"test": spec})})
    owner_id = workflow.owner_id if workflow is not None else user.id
    await forget_old_test_runs(session=session, settings=settings, owner_id=owner_id)
    if workflow is None:
        return await start_owned_and_index(
            client=client,
            session=session,
            state=state,
            owner_id=owner_id,
            workflow_id=None,
            run=run,
        )
    return await start_and_index(
        client=client, session=session, state=state, workflow=workflow, run=run
    )
