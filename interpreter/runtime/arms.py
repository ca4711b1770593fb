"""A schedule's run picking its rollout arm as it starts (see :class:`ScheduledRollout`).

Workflow code, so deterministic: the arm is a hash of the run's ``sticky_by``
value, or else of its run id, both in its history. Runs whose input carries no
rollout (every run recorded before schedules carried one) go through
unchanged, so their histories replay as before; a run with one that a worker
without this code ran first (a rolling upgrade: it ignored the field and ran
the stable arm) has no :data:`ARM_PATCH` marker and replays on the stable arm.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from interpreter.contract import search_attributes as sa
    from interpreter.contract.rollout import ARM_MEMO, CANDIDATE, STABLE, bucket, sticky_value
    from interpreter.contract.run import RunInput


ARM_PATCH = "schedule-rollout-arm"


def placed(run: RunInput) -> RunInput:
    """The input the run executes: one arm of ``run.rollout``, or ``run`` itself without one."""
    rollout = run.rollout
    if rollout is None or run.batch is not None or run.carry is not None:
        return run
    if not workflow.patched(ARM_PATCH):
        return run.model_copy(update={"rollout": None})
    value = sticky_value(rollout.sticky_by, run.input)
    if value is None:
        value = {"run": workflow.info().workflow_id}
    if bucket(rollout.salt, value) < rollout.percent:
        chosen = rollout.candidate
        meta = chosen.meta.model_copy(update={"arm": CANDIDATE})
        return chosen.model_copy(update={"meta": meta, "rollout": None})
    meta = run.meta.model_copy(update={"arm": STABLE})
    return run.model_copy(update={"meta": meta, "rollout": None})


def record_arm(started: RunInput, run: RunInput) -> None:
    """Make the arm ``started`` was placed on visible: its memo, and its version's attribute."""
    if started.rollout is None or run.meta.arm is None or started.carry is not None:
        return
    if run.meta.version != started.meta.version:
        workflow.upsert_search_attributes([sa.VERSION.value_set(run.meta.version)])
    workflow.upsert_memo({ARM_MEMO: run.meta.arm})
