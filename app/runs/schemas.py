"""Request and response bodies of the run routes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.runs.task_failure import TaskFailure
from interpreter.contract.run import NodeError, NodeSnapshot, RunStatus


class RunCreate(BaseModel):
    """Start a run.

    Attributes:
        input: The run input; checked against the definition's ``input_schema``.
        version: The definition version to run; the active one if omitted.
    """

    model_config = ConfigDict(extra="forbid")

    input: Any = Field(default_factory=dict)
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)
    breakpoints: list[str] | Literal["*"] | None = Field(
        default=None,
        description="Pause before these nodes (ids; loop[*].id inside a for_each body), "
        "or '*' before every node; step through with POST /runs/{id}/step.",
    )


class RunTrigger(StrEnum):
    """What started a run (its ``FlowForgeTrigger`` search attribute)."""

    API = "api"
    SCHEDULE = "schedule"
    WEBHOOK = "webhook"
    EVENT = "event"
    RERUN = "rerun"
    TEST = "test"


class TemporalLink(BaseModel):
    """Where the run lives in Temporal, and its page in the Temporal Web UI."""

    workflow_id: str
    run_id: str | None
    ui_url: str


class RunSummary(BaseModel):
    """A run as the list shows it.

    ``workflow_id``, ``version``, ``owner_id`` and ``trigger`` come from the
    run's search attributes (None only for runs FlowForge did not start).
    """

    run_id: str
    workflow_id: str | None
    version: int | None
    status: RunStatus
    owner_id: str | None
    trigger: str | None
    started_at: datetime | None
    ended_at: datetime | None
    temporal: TemporalLink
    node_counts: dict[str, int] | None = Field(
        default=None,
        description="Nodes by status (every status a key); in lists, for finished runs only.",
    )


class NodeView(NodeSnapshot):
    """A node as the API shows it: the status query's report, with Temporal's retries.

    Attributes:
        status: ``retrying`` while the node waits between two attempts.
        attempts: Attempts begun so far (the running one counts); the total once it ended.
        last_error: The last failed attempt's error, while the node is still retrying.
        next_attempt_at: When the next attempt is due, while ``retrying``.

    A local activity node's retries are the workflow's own, and its status
    query reports them; a regular activity's come from Temporal's description.
    """


class RunDetail(RunSummary):
    """A run with its input, result and every node's state.

    ``suspended_on`` is the node a suspended run waits on (null otherwise);
    ``dashboard_url`` its page in the dashboard (``/ui/runs/{run_id}``).
    ``nodes`` is empty when no worker answered the status query (the run's
    state then comes from Temporal alone). ``workflow_task_failure`` is set
    when that is because the run's workflow task keeps failing (Temporal's
    cause and message); ``error`` then says so too.
    """

    paused: bool = False
    suspended_on: str | None = None
    paused_before: str | None = Field(
        default=None, description="The node a run paused at a breakpoint waits before."
    )
    input: Any = None
    output: Any = None
    error: NodeError | None = None
    idempotency_key: str | None = None
    dashboard_url: str | None = None
    nodes: list[NodeView] = Field(default_factory=list)
    workflow_task_failure: TaskFailure | None = None
    rerun_of: str | None = Field(default=None, description="The run this one reruns, if any.")
    reruns: list[str] = Field(
        default_factory=list, description="Runs that rerun this one, oldest first (at most 100)."
    )
    arm: str | None = Field(
        default=None,
        description="The rollout arm the run was sent to (candidate or stable), if any.",
    )
    plugins: dict[str, str] = Field(
        default_factory=dict,
        description="The plugin version each script node runs (node path: name@version), "
        "as pinned when the run started.",
    )
    trace_id: str | None = Field(
        default=None,
        description="The run's OpenTelemetry trace id, when it was started with tracing on.",
    )


class BatchRun(RunSummary):
    """One child run of a for_each node whose items ran in batches.

    ``first_item`` is the index of the batch's first item (its run id ends with
    it); ``dashboard_url`` is the batch's page in the dashboard.
    """

    first_item: int
    dashboard_url: str


class PinnedDefinition(BaseModel):
    """The definition a run executes, as pinned when it started.

    A for_each batch's is its one loop node (named ``{workflow}/{node}``).
    """

    run_id: str
    definition: dict[str, Any]


class RunAction(BaseModel):
    """The answer to a control action: the status the run is moving to."""

    run_id: str
    status: RunStatus


class NodeRetried(RunAction):
    """The answer to a node retry.

    ``rerun_of`` is there only when the retry started a new run (a node retry
    of a failed run redrives it): ``run_id`` is then the new run.
    """

    rerun_of: str | None = None


class RunAccepted(BaseModel):
    """The answer to a start: the run (new, or the one an idempotency key found)."""

    run_id: str
    workflow_id: str
    version: int
    status: RunStatus
    temporal: TemporalLink
    rerun_of: str | None = Field(
        default=None, description="The run this one reruns (reruns, redrives, node retries)."
    )


class RunEnded(RunAccepted):
    """The answer to a start with ``?wait=`` once the run ended within the wait (200)."""

    output: Any = Field(default=None, description="The output, if the run succeeded.")
    error: NodeError | None = Field(
        default=None, description="Why the run did not succeed, if it ended otherwise."
    )
