"""A run input pinned to one version of a workflow: every way of starting a run builds it here.

A schedule's action carries a complete :class:`RunInput` too, so every run it
starts uses the definition (and ``sub_workflow`` targets) pinned when the
schedule was created or last changed.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.crud.workflows import get_version
from app.db.models.workflow import Workflow
from app.errors import ApiError, ErrorItem
from app.plugins.pinning import pin_plugins
from app.runs.children import children_of_run
from app.runs.inputs import input_errors
from app.settings import Settings
from app.workflows.rollout import choose_arm
from interpreter.contract.run import RunInput, RunMeta
from interpreter.dsl.definition import Definition


async def pinned_run_input(
    *,
    session: AsyncSession,
    settings: Settings,
    workflow: Workflow,
    version: int | None,
    run_input: Any,
    trigger: str,
    input_path: str = "/body/input",
    version_path: str = "/body/version",
) -> RunInput:
    """The input of a run of ``workflow`` at ``version`` (its active one if None).

    With no version asked for, a rollout may send the run to its candidate
    (:func:`app.workflows.rollout.choose_arm`); ``meta.arm`` then says which arm.

    Raises:
        ApiError: 422 for a version that does not exist, an input that breaks
            the definition's ``input_schema`` (paths under ``input_path``), or
            a ``sub_workflow`` target that cannot be pinned.
    """
    arm = choose_arm(workflow, run_input, trigger) if version is None else None
    number = version or (arm.version if arm else workflow.active_version)
    row = await get_version(session=session, workflow_id=workflow.id, version=number)
    if row is None:
        raise ApiError(
            422,
            f"workflow {workflow.id} has no version {number}",
            errors=[
                ErrorItem(path=version_path, code="unknown_version", message="no such version")
            ],
        )
    definition = Definition.model_validate(row.definition)
    errors = input_errors(definition.input_schema, run_input)
    if errors:
        for error in errors:
            error.path = input_path + error.path
        raise ApiError(
            422,
            f"the input does not match the workflow's input_schema ({len(errors)} problem(s))",
            errors=errors,
        )
    definition = await pin_plugins(session, definition, workflow.owner_id)
    children = await children_of_run(
        session=session,
        workflow=workflow,
        version=number,
        definition=definition,
        max_depth=settings.run.max_sub_workflow_depth,
    )
    meta = RunMeta(
        workflow_id=str(workflow.id),
        version=number,
        owner=str(workflow.owner_id),
        trigger=trigger,
        arm=arm.name if arm else None,
    )
    return RunInput(
        definition=definition,
        input=run_input,
        meta=meta,
        options=settings.run,
        children=children,
    )
