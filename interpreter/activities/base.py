"""The contract between the interpreter workflow and every node activity.

Each activity takes one :class:`ActivityRequest` and returns one
:class:`ActivityResult`. Failures are raised as :class:`NodeFailure`
subclasses; :func:`node_activity` turns them into Temporal ``ApplicationError``
through :func:`to_application_error`, the one place that decides whether a
failure is retried and, when Temporal's own RetryPolicy cannot express it
(linear backoff, jitter, ``Retry-After``), after how long.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from interpreter.dsl.definition import RetrySpec
from interpreter.dsl.payloads import over_limit, too_large_details, too_large_message
from interpreter.errors import HttpStatusError, NodeFailure, OutputTooLarge, Unauthorized
from interpreter.run_proof import ProofSubject, RunKeys, RunProof

MAX_RETRY_AFTER = timedelta(hours=1)
"""An upstream's ``Retry-After`` is honoured up to this long; longer asks are clamped."""


class ActivityRequest(BaseModel):
    r"""Input of a node activity.

    Attributes:
        run_id: The Temporal workflow id of the run.
        node_id: The node's id in its definition.
        node_path: Unique path of this node execution in the run (``enrich[3].profile``
            inside a for_each); the idempotency key derives from it.
        node_type: The node's type, e.g. ``http``.
        config: The node's config with every template rendered. For node types
            that read secrets (http, webhook) it is still a template: holes
            that read ``secrets`` are left for the activity to resolve and
            every ``{{`` of data comes escaped (``\{{``), so the activity
            renders it once more.
        retry: The effective retry spec (node's, else the definition default).
        idempotency_key: :func:`execution_key` when the node sets
            ``idempotency: true``, else None.
        context: Expression variables (``input``, ``run``, referenced ``nodes``,
            ``item``/``index``) for node types that evaluate bare CEL inside the
            activity (``validate`` rules); empty for the others.
        owner: The owner the run names (``RunMeta.owner``). Anyone who starts
            a workflow on Temporal writes it: never act for it, act for
            :func:`verified_owner`.
        circuit_breaker: The node's ``circuit_breaker`` name (the owner's own,
            or ``shared:NAME`` for one an admin defined); None means the
            owner's implicit breaker of the destination (``scheme://host:port``).
        proof: The run's proof that the API started it (nodes that act for
            the owner only).
        subject: What the run is, computed by its workflow code from what it
            runs; the proof must match it.
        max_output_bytes: The largest result (as JSON) the activity may return:
            the run's ``max_payload_bytes``. A larger one fails the attempt with
            the non-retryable ``OutputTooLarge`` instead of reaching Temporal.
        attempt: The attempt this is, when the workflow retries the node itself
            (a local activity, see :func:`attempt_of`); 0: Temporal counts them.
    """

    run_id: str
    node_id: str
    node_path: str
    node_type: str
    config: dict[str, Any] = Field(default_factory=dict)
    retry: RetrySpec = Field(default_factory=RetrySpec)
    idempotency_key: str | None = None
    context: dict[str, Any] = Field(default_factory=dict)
    owner: str = ""
    circuit_breaker: str | None = None
    proof: RunProof | None = None
    attempt: int = Field(default=0, ge=0)
    subject: ProofSubject | None = None
    max_output_bytes: int = Field(default=2_000_000, ge=1)


def verified_owner(keys: RunKeys | None, request: ActivityRequest) -> str:
    """The owner a node may act for (secrets, breakers, delivery records): its run's proof's.

    Raises:
        Unauthorized: naming the node and why: the worker has no keys, the run
            has no proof, or the proof does not hold for this run.
    """
    node = request.node_id
    if keys is None:
        raise Unauthorized(
            f"node {node!r}: this worker has no run signing keys, so it cannot tell that the "
            "API started the run",
            details={"reason": "no_keys"},
        )
    try:
        return keys.owner(request.proof, request.subject)
    except Unauthorized as exc:
        raise Unauthorized(f"node {node!r}: {exc}", details=exc.details) from None


def execution_key(run_id: str, node_path: str) -> str:
    """The idempotency key of one node execution in one run: the same on every attempt.

    It is ``sha256(run_id:node_path)``; a receiver drops repeats by it
    (``Idempotency-Key``, ``X-Delivery-Id``).
    """
    return hashlib.sha256(f"{run_id}:{node_path}".encode()).hexdigest()


class ActivityResult(BaseModel):
    """What a node activity returns: its raw output and the attempt that produced it."""

    output: Any = None
    attempt: int = 1


def next_retry_delay(
    spec: RetrySpec, attempt: int, retry_after: float | None = None
) -> timedelta | None:
    """The delay before the attempt after ``attempt``, when Temporal can't compute it.

    Returns None when Temporal's RetryPolicy (exponential/fixed, no jitter, no
    ``Retry-After``) already gives the right delay.
    """
    if retry_after is not None:
        return min(timedelta(seconds=max(retry_after, 0.0)), MAX_RETRY_AFTER)
    if spec.strategy not in ("linear",) and not spec.jitter:
        return None
    delay = spec.delay_before(attempt + 1)
    if spec.jitter:
        # Jitter spreads retries of many runs hitting one upstream; activity code
        # may use randomness (only workflow code must be deterministic).
        delay = delay * random.uniform(0.5, 1.0)
    return delay


def to_application_error(failure: NodeFailure, spec: RetrySpec, attempt: int) -> ApplicationError:
    """Convert a node failure into the error Temporal sees: whether and when it is retried.

    A failure is retried unless its class says it cannot help
    (``failure.retryable``), the spec names its type in
    ``non_retryable_errors``, or it is an unexpected HTTP status outside
    ``retry_on_status``. The delay is :func:`next_retry_delay`'s, with the
    failure's ``retry_after`` (an upstream's ``Retry-After``, a circuit
    breaker's reset time) first.
    """
    retryable = failure.retryable and type(failure).__name__ not in spec.non_retryable_errors
    if isinstance(failure, HttpStatusError) and failure.status not in spec.retry_on_status:
        retryable = False
    details = {**failure.details, "attempt": attempt}
    return ApplicationError(
        str(failure),
        details,
        type=type(failure).__name__,
        non_retryable=not retryable,
        next_retry_delay=next_retry_delay(spec, attempt, failure.retry_after)
        if retryable
        else None,
    )


def attempt_of(request: ActivityRequest) -> int:
    """The attempt ``request`` is: the workflow's count for a local activity, else Temporal's.

    The workflow retries a local activity node itself, each attempt a new
    local activity that Temporal numbers 1, and says which attempt it is in
    the request.
    """
    return request.attempt or activity.info().attempt


HEARTBEATS_PER_TIMEOUT = 3
"""Beats sent within each heartbeat timeout, so one late beat never loses a live worker."""

MIN_HEARTBEAT_INTERVAL = 0.1
"""Seconds between beats at the least, however short the heartbeat timeout."""

MAX_HEARTBEAT_INTERVAL = 5.0
"""Seconds between beats at the most, so a cancellation reaches a long attempt soon."""


def heartbeat_interval(timeout: timedelta | None) -> float:
    """Seconds between two beats of an attempt whose heartbeat timeout is ``timeout``."""
    if not timeout:
        return MAX_HEARTBEAT_INTERVAL
    share = timeout.total_seconds() / HEARTBEATS_PER_TIMEOUT
    return max(MIN_HEARTBEAT_INTERVAL, min(MAX_HEARTBEAT_INTERVAL, share))


@contextlib.asynccontextmanager
async def heartbeating(interval: float | None = None) -> AsyncIterator[None]:
    """Heartbeat every ``interval`` seconds while the attempt runs, the first after one interval.

    Beats tell Temporal the worker is alive: once they stop for the heartbeat
    timeout (a killed worker) Temporal retries the node on another worker,
    and they carry cancellation to a long attempt. Temporal counts that
    timeout from the attempt's start until a first beat, so a beat at the
    start proves nothing an attempt that ends within one interval (a third of
    the timeout at most) would not: most nodes end within milliseconds, and
    beating at once cost each of them a call to the server. A node still
    running after one interval beats from then on, so losing its worker is
    noticed as soon as before, and a cancellation reaches it as soon as
    before. By default the interval is :func:`heartbeat_interval` of the
    heartbeat timeout.
    """
    info = activity.info()
    if info.is_local:
        # A local activity cannot heartbeat: its worker's workflow task stands for it
        # (a killed worker's task times out and the node runs again), and a
        # cancellation reaches it in-process.
        yield
        return
    if interval is None:
        interval = heartbeat_interval(info.heartbeat_timeout)

    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            activity.heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def check_output_size(request: ActivityRequest, output: Any) -> None:
    """Refuse a result Temporal could not store, before it is handed over.

    Raises:
        OutputTooLarge: naming the node, the size and the limit (not retryable:
            the same call would bring back as much).
    """
    limit = request.max_output_bytes
    size = over_limit(output, limit)
    if size is not None:
        what = f"node {request.node_path!r}: the {request.node_type} result"
        hint = (
            "a node's raw result must fit before its `output` can keep less of it; "
            "fetch less (a smaller page, fewer fields)"
        )
        raise OutputTooLarge(
            too_large_message(what, size, limit, hint), details=too_large_details(size, limit)
        )


def node_activity(
    fn: Callable[[Any, ActivityRequest], Awaitable[Any]],
) -> Callable[[Any, ActivityRequest], Awaitable[ActivityResult]]:
    """Wrap an activity method: heartbeats, result envelope, size check, error conversion.

    The wrapped method returns the node's raw output or raises
    :class:`NodeFailure`, which :func:`to_application_error` converts. An
    output over ``request.max_output_bytes`` becomes ``OutputTooLarge``.
    """

    @functools.wraps(fn)
    async def wrapper(self: Any, request: ActivityRequest) -> ActivityResult:
        attempt = attempt_of(request)
        try:
            async with heartbeating():
                output = await fn(self, request)
            check_output_size(request, output)
        except NodeFailure as failure:
            raise to_application_error(failure, request.retry, attempt) from None
        return ActivityResult(output=output, attempt=attempt)

    # functools.wraps copied the raw output's return hint; Temporal reads hints
    # to decode results, and callers must receive the envelope.
    wrapper.__annotations__ = {**fn.__annotations__, "return": ActivityResult}
    return wrapper
