"""What a run is made of: the workflow input, and the status snapshot it answers.

:class:`RunInput` is the single, versionable input of ``InterpreterWorkflow``:
fields may be added with defaults, never removed or retyped, so histories
recorded by older versions still replay.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from interpreter.contract.shared import shared_as
from interpreter.contract.testing import TestSpec
from interpreter.dsl.definition import Definition
from interpreter.dsl.expressions import DEFAULT_COST_LIMIT, DEFAULT_RESULT_BYTES, ExpressionLimits
from interpreter.run_proof import ProofSubject, RunProof, canonical_json, run_digest


class RunStatus(StrEnum):
    """Where a run is: running (or paused, or suspended on a node), or how it ended."""

    RUNNING = "running"
    PAUSED = "paused"
    SUSPENDED = "suspended"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TERMINATED = "terminated"
    TIMED_OUT = "timed_out"


class NodeStatus(StrEnum):
    """Where a node is: pending, then running or waiting, then one of :data:`SETTLED`."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"
    WAITING = "waiting"


SETTLED = frozenset(
    {NodeStatus.SUCCEEDED, NodeStatus.FAILED, NodeStatus.SKIPPED, NodeStatus.CANCELLED}
)


class RunMeta(BaseModel):
    """Who and what started the run.

    Attributes:
        workflow_id: The FlowForge workflow (definition) id; empty for a test
            run of a bare definition, which belongs to no workflow.
        version: The pinned definition version (1 for a bare definition).
        owner: The owning user's id or name, for visibility filters.
        trigger: What started the run: ``api``, ``schedule``, ``webhook``, ``event``,
            ``test``.
        arm: The rollout arm the run was sent to (``candidate`` or ``stable``),
            None when its workflow had no rollout.
        test: Set on a test run: its mocks and the nodes it may run for real
            (see :mod:`interpreter.contract.testing`). Here rather than on
            :class:`RunInput` because for_each batches copy the meta.
    """

    workflow_id: str = Field(max_length=200)
    version: int = Field(ge=1)
    owner: str = Field(default="", max_length=200)
    trigger: str = Field(default="api", max_length=50)
    arm: str | None = Field(default=None, max_length=20)
    test: TestSpec | None = None


class RunOptions(BaseModel):
    """Server-side limits, fixed at start so a run never depends on worker settings.

    Each field's ``description`` says what it bounds; the API starts every run
    with the values of its ``FLOWFORGE_*`` variables (``app.settings``), and the
    README's configuration table shows the same descriptions. Names and
    defaults never change: recorded histories carry them.
    """

    default_max_concurrency: int = Field(
        default=100,
        ge=1,
        description=(
            "Nodes of a run in flight at once when its definition sets no `max_concurrency`."
        ),
    )
    max_attempts_cap: int = Field(
        default=20, ge=1, description="Upper bound on any node's `retry.max_attempts`."
    )
    max_snapshot_output_bytes: int = Field(
        default=16_384,
        ge=256,
        description=(
            "Node outputs larger than this (as JSON) are truncated in a run's status; "
            "the full value stays usable by expressions."
        ),
    )
    max_payload_bytes: int = Field(
        default=2_000_000,
        ge=1024,
        description=(
            "Largest value (as JSON) a run hands to Temporal in one payload: a node's result "
            "or input, the run's output. Temporal refuses payloads over 2 MiB by default; this "
            "leaves a margin for envelopes and encryption. A larger value fails its node (or "
            "the run) at once with `OutputTooLarge`; a larger state to carry across "
            "continue-as-new keeps the run in its history instead. Also the most an `http` "
            "node's `max_response_bytes` may be."
        ),
    )
    activity_task_queue: str = Field(
        default="",
        description="Task queue of the run's activities; empty: the workflow's own queue.",
    )
    heartbeat_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        description=(
            "Seconds without a heartbeat after which an activity node's worker counts as lost "
            "and the node is retried on another worker (its error: `WorkerLost`)."
        ),
    )
    local_activity_max_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "An `http`, `webhook`, `log` or `validate` node whose `timeout` is at most this "
            "many seconds runs as a local activity, in the worker that runs its workflow (no "
            "round trip through the server's task queues), unless it sets `task_queue` or "
            '`execution: "activity"`, or the run\'s activities go to another task queue; '
            "its retries wait on durable timers. 0: every node is a regular activity. See "
            "docs/RUNS.md."
        ),
    )
    for_each_max_items: int = Field(
        default=1_000_000,
        ge=0,
        description="A for_each over more items than this fails (0: no limit).",
    )
    for_each_default_concurrency: int = Field(
        default=10, ge=1, description="Items of a for_each in flight when it sets no concurrency."
    )
    for_each_batch_threshold: int = Field(
        default=200,
        ge=1,
        description=(
            "Past this many items a for_each runs its items in child workflows of "
            "`for_each_batch_size` items each, so no history approaches Temporal's limits."
        ),
    )
    for_each_batch_size: int = Field(
        default=500, ge=1, description="Items per child workflow of a batched for_each."
    )
    for_each_parallel_batches: int = Field(
        default=4, ge=1, description="Child workflows of one for_each in flight at once."
    )
    for_each_nodes_per_task: int = Field(
        default=2000,
        ge=1,
        description=(
            "Body nodes (items x body size) a for_each starts in one workflow task before "
            "it yields to a new one, which bounds the CPU time of a task."
        ),
    )
    continue_as_new_after_events: int = Field(
        default=0,
        ge=0,
        description=(
            "Continue-as-new once the history is this long (0: only when Temporal suggests it)."
        ),
    )
    expression_cost_limit: int = Field(
        default=DEFAULT_COST_LIMIT,
        ge=1000,
        description=(
            "Most work one CEL evaluation may take, in estimated units (about 0.1 microsecond "
            "each): priced before it runs from the expression and the sizes of what it reads; "
            "over it the node fails with `ExpressionTooCostly`."
        ),
    )
    expression_result_bytes: int = Field(
        default=DEFAULT_RESULT_BYTES,
        ge=1024,
        description=(
            "Most bytes (as JSON) one CEL evaluation may return; over it the node fails with "
            "`ExpressionTooCostly`."
        ),
    )
    max_sub_workflow_depth: int = Field(
        default=5,
        ge=1,
        le=50,
        description=(
            "How deep `sub_workflow` nodes may nest: a run start resolves the targets this "
            "many levels down, and the run refuses to go deeper."
        ),
    )

    test_report_max_edges: int = Field(
        default=5000,
        ge=0,
        description=(
            "Most for_each body edges (summed over items) a test run's report lists; the "
            "rest are counted in its `edges_left_off`, so the report stays one small answer."
        ),
    )

    def expression_limits(self) -> ExpressionLimits:
        """What one CEL evaluation of the run may cost and return."""
        return ExpressionLimits(self.expression_cost_limit, self.expression_result_bytes)


SharedDefinition = Annotated[Definition, shared_as("definition")]
"""A run's definition: runs decoding the same one share one parsed copy (``contract.shared``)."""
SharedOptions = Annotated[RunOptions, shared_as("options")]
"""A run's options, shared alike."""
SharedMeta = Annotated[RunMeta, shared_as("meta")]
"""A run's metadata, shared alike (runs of one version started alike carry the same)."""


class PinnedWorkflow(BaseModel):
    """A workflow a ``sub_workflow`` node runs, pinned when the parent run started.

    Attributes:
        proof: The API's proof for this target under the run that pinned it;
            the child run carries it.
    """

    workflow_id: str
    version: int
    definition: SharedDefinition
    proof: RunProof | None = None


class RunInput(BaseModel):
    """Input of ``InterpreterWorkflow``: the pinned definition, the run input, metadata.

    Attributes:
        children: Definitions of ``sub_workflow`` targets (transitively), keyed
            by :func:`child_key`; resolved by the starter so runs never read a
            store.
        carry: State carried over by continue-as-new; None on a fresh run.
        batch: Set when this run executes one batch of a parent's for_each.
        depth: sub_workflow nesting depth of this run.
        reuse: Outputs of a previous run's nodes, by node id, that this run
            takes as given instead of running those nodes again (a rerun from
            a node reuses everything upstream of it).
        reuse_items: Outputs of a previous run's items of top-level for_each
            nodes, by node id: a redriven for_each runs only its other items.
        proof: The API's signature that it started this run (a sub_workflow:
            pinned its target; a batch: its parent's), without which the run
            may not act for an owner (see :mod:`interpreter.run_proof`).
        lineage: Set by a parent run's workflow code on its children: what
            the parent is, which the child's proof must match.
        rollout: Set on a schedule's action while its workflow has a rollout:
            the run picks its arm as it starts (:class:`ScheduledRollout`).
    """

    schema_version: int = 1
    definition: SharedDefinition
    input: Any = None
    meta: SharedMeta
    options: SharedOptions = Field(default_factory=RunOptions)
    children: dict[str, PinnedWorkflow] = Field(default_factory=dict)
    carry: Carry | None = None
    batch: Batch | None = None
    depth: int = 0
    reuse: dict[str, Any] = Field(default_factory=dict)
    proof: RunProof | None = None
    lineage: ProofSubject | None = None
    breakpoints: list[str] = Field(default_factory=list, max_length=1000)
    """Node paths (``id``, ``loop[*].id``) the run pauses before, or ``["*"]``: every node."""
    reuse_items: dict[str, ItemReuse] = Field(default_factory=dict)
    rollout: ScheduledRollout | None = None

    def root_digest(self) -> str:
        """What a top-level run's proof signs: definition, input, reuse and test mocks."""
        items = {key: value.model_dump(mode="json") for key, value in self.reuse_items.items()}
        test = self.meta.test.model_dump(mode="json") if self.meta.test is not None else None
        return run_digest(self.definition, self.input, self.reuse, items, test)


class ScheduledRollout(BaseModel):
    """Both arms of a rollout, in a schedule's action: each run it starts picks one.

    The input carrying it is the stable arm; ``candidate`` is the whole input
    of the candidate arm, signed by the API like the stable one, so a run on
    either arm runs exactly what the API pinned. A run goes to the candidate
    when its bucket (:func:`interpreter.contract.rollout.bucket` under
    ``salt``, of its ``sticky_by`` value or else of its run id) is below
    ``percent``.
    """

    candidate: RunInput
    percent: int = Field(ge=0, le=100)
    sticky_by: str | None = Field(default=None, max_length=1000)
    salt: str = Field(max_length=300)


def child_key(workflow_id: str, version: int | None) -> str:
    """How ``RunInput.children`` names a sub_workflow target (``active`` if no version)."""
    return f"{workflow_id}@{version if version is not None else 'active'}"


class NodeError(BaseModel):
    """Why a node, or the run, failed.

    Attributes:
        type: A class name of :mod:`interpreter.errors`, or one the runtime
            gives (``Timeout``, ``Fail``, ``ItemsFailed``, ``SignalTimeout``, ...).
        message: Names the node and what went wrong.
        details: Facts for a program to read (``status``, ``field``, ...).
    """

    type: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class Carry(BaseModel):
    """A run's state at continue-as-new: enough to go on exactly where it was."""

    nodes: list[NodeSnapshot]
    values: dict[str, dict[str, Any]]
    taken: list[bool | None]
    queue: list[str]
    paused: bool = False
    suspended: str | None = None
    unhandled: NodeError | None = None
    signals: dict[str, list[Any]] = Field(default_factory=dict)
    started_at: datetime
    continued: int = 0
    breakpoints: list[str] | None = None
    stepping: bool = False
    released: list[str] = Field(default_factory=list)
    paused_before: str | None = None


class Batch(BaseModel):
    """One batch of a for_each run as a child workflow.

    Attributes:
        node_id: The parent's for_each node id (for paths and errors).
        items: This batch's items.
        first_index: ``index`` of the first item.
        outer: ``{output, status, error}`` of the parent's nodes the body reads.
        indexes: The ``index`` of each item, when they do not follow on from
            ``first_index`` (a redriven for_each runs only some of its items).
    """

    node_id: str
    items: list[Any]
    first_index: int
    outer: dict[str, dict[str, Any]] = Field(default_factory=dict)
    indexes: list[int] | None = None

    def item_indexes(self) -> list[int]:
        """The ``index`` of each of the batch's items."""
        if self.indexes is not None:
            return self.indexes
        return list(range(self.first_index, self.first_index + len(self.items)))


class ItemReuse(BaseModel):
    """A previous run's item outputs of one for_each node, for a redrive to take as given.

    Attributes:
        total: How many items the for_each had.
        digest: :func:`items_digest` of its items: the outputs are reused only
            if the new run iterates over the very same items.
        outputs: The outputs of the items that succeeded, by index.
        note: Why no outputs are reused (they were too large to carry, ...);
            the node's progress shows it.
    """

    total: int = 0
    digest: str = ""
    outputs: dict[int, Any] = Field(default_factory=dict)
    note: str | None = None


class ItemsAsked(BaseModel):
    """The ``item_outputs`` query's argument: which for_each, and how many bytes may answer."""

    node_id: str
    budget: int = Field(ge=0)


class ItemOutputs(BaseModel):
    """The ``item_outputs`` query's answer: what a run holds of one for_each's items.

    Attributes:
        known: The run ran that for_each's items (and still holds them).
        total: How many items the for_each has.
        digest: :func:`items_digest` of its items (a batch run: empty).
        outputs: Outputs of its items that succeeded, by index (empty if too large).
        batches: Workflow ids of its batch runs that failed: those hold the
            outputs of their items that succeeded.
        size: Bytes of ``outputs`` as JSON.
        too_large: ``outputs`` are over the budget asked, so left out.
    """

    known: bool = False
    total: int = 0
    digest: str = ""
    outputs: dict[int, Any] = Field(default_factory=dict)
    batches: list[str] = Field(default_factory=list)
    size: int = 0
    too_large: bool = False


def items_digest(items: list[Any]) -> str:
    """sha256 (hex) of a for_each's items as canonical JSON."""
    return hashlib.sha256(canonical_json(items)).hexdigest()


class NodeSnapshot(BaseModel):
    """One node as the ``status`` query shows it.

    Attributes:
        attempts: Attempts made, added up across an operator's retries.
        progress: How far a for_each has got (``done``, ``total``, ``failed``).
        reused: The output was taken from a previous run (``RunInput.reuse``).
        last_error: The last failed attempt's error, while the node is still retrying.
        next_attempt_at: When the next attempt is due, while ``retrying``.
    """

    id: str
    type: str
    status: NodeStatus = NodeStatus.PENDING
    attempts: int = 0
    started_at: datetime | None = None
    ended_at: datetime | None = None
    output: Any = None
    error: NodeError | None = None
    progress: dict[str, Any] | None = None
    reused: bool = False
    last_error: NodeError | None = None
    next_attempt_at: datetime | None = None


class RunSnapshot(BaseModel):
    """The answer of the ``status`` query."""

    status: RunStatus
    paused: bool = False
    workflow_id: str
    version: int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    output: Any = None
    error: NodeError | None = None
    suspended_on: str | None = None
    paused_before: str | None = None
    nodes: list[NodeSnapshot] = Field(default_factory=list)
