"""What a redrive batch is made of: shared by the API, its workflow and its activity.

A bulk redrive runs as a Temporal workflow of its own (``RedriveBatch``) on
the API's task queue, one activity per run. Anyone who can start workflows
on Temporal could write a batch naming any user, so the API signs each batch
(:class:`RedriveBatch.signature`, HMAC under the run signing keys) and the
activity acts only on a batch whose signature holds for the workflow it runs in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.runs.redrive import RedriveVersion
from interpreter.run_proof import canonical_json

BATCH_WORKFLOW = "RedriveBatch"
"""The workflow type of a redrive batch."""
REDRIVE_ACTIVITY = "redrive_run"
"""The activity redriving one run of a batch."""
PROGRESS_QUERY = "progress"
"""Query answering what a batch has done so far (:class:`RedriveProgress`)."""
UNAUTHORIZED = "RedriveUnauthorized"
"""Failure type of a batch the API did not sign: the batch fails, nothing is redriven."""
NO_WORKER = "RedriveNoWorker"
"""Failure type of an attempt no worker answered for: the one failure retried."""
FAILED = "RedriveFailed"
"""Failure type of an attempt that broke unexpectedly: the run is listed as refused."""

_DOMAIN = b"flowforge redrive batch v1\0"


class RedriveBatch(BaseModel):
    """The runs one ``POST /runs/redrive`` restarts, signed by the API.

    Attributes:
        batch_id: The id the caller follows the batch by.
        workflow_id: The Temporal workflow id the batch runs under (it names
            the owner and the batch id); the signature holds only there.
        owner_id: The user the batch acts for (re-read from PostgreSQL per run).
        run_ids: The failed runs, in the order they were selected.
        version: Which version each run is redriven on.
        issued_at: When the API signed the batch: a run redriven since then
            is this batch's (an attempt retried after it started a run).
        concurrency: Runs restarted at once.
        attempts: Attempts per run while no worker answers.
        run_timeout: Seconds one attempt may take.
        request_digest: sha256 of the request that started the batch, so the
            same ``Idempotency-Key`` with another request is refused.
        signature: HMAC-SHA256 of the fields above (:meth:`signed_bytes`).
    """

    batch_id: str = Field(max_length=100)
    workflow_id: str = Field(max_length=300)
    owner_id: str = Field(max_length=100)
    run_ids: list[str] = Field(max_length=1000)
    version: RedriveVersion
    issued_at: datetime
    concurrency: int = Field(ge=1)
    attempts: int = Field(ge=1)
    run_timeout: float = Field(gt=0)
    request_digest: str = Field(default="", max_length=64)
    signature: str = Field(default="", max_length=100)

    def signed_bytes(self) -> bytes:
        """What the signature covers: every field but the signature, canonically."""
        return _DOMAIN + canonical_json(self.model_dump(mode="json", exclude={"signature"}))


class RedriveTask(BaseModel):
    """One activity's work: redrive ``run_id`` of ``batch``."""

    batch: RedriveBatch
    run_id: str


class RedrivenRun(BaseModel):
    """A new run, and the failed run it redrives."""

    run_id: str
    rerun_of: str
    version: int


class RedriveRefused(BaseModel):
    """A run that was not redriven, and why (the HTTP status a single redrive would answer)."""

    run_id: str
    status: int
    detail: str


class RedriveOutcome(BaseModel):
    """What became of one run of a batch: redriven or refused."""

    run: RedrivenRun | None = None
    refused: RedriveRefused | None = None


class RedriveProgress(BaseModel):
    """The runs started, and the selected runs that could not be (so far, while running)."""

    batch_id: str
    status: Literal["running", "succeeded", "failed"] = Field(
        description="`running` until every selected run is redriven or refused."
    )
    total: int = Field(description="Runs the batch selected.")
    runs: list[RedrivenRun] = Field(default_factory=list)
    refused: list[RedriveRefused] = Field(default_factory=list)
    error: str | None = Field(
        default=None, description="Why the batch itself failed (then nothing more is redriven)."
    )


def batch_workflow_id(owner_id: str, batch_id: str) -> str:
    """The Temporal workflow id of ``owner_id``'s batch ``batch_id``: a batch is its owner's."""
    return f"redrive-{owner_id}-{batch_id}"
