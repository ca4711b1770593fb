"""FlowForge's error hierarchy.

Everything a user can cause is a :class:`FlowForgeError`. Errors raised inside
activities travel to the workflow as Temporal ``ApplicationError`` whose
``type`` is the class name below, so ``retry.non_retryable_errors`` can name
them::

    FlowForgeError
    ├── DefinitionInvalid        a definition failed validation (never runs)
    ├── SecretUnreadable         a stored secret does not open with the
    │                            process's FLOWFORGE_SECRETS_KEY
    ├── ExpressionError          a CEL expression or template failed
    │   ├── ExpressionSyntaxError    at save time: bad syntax, unknown name
    │   └── EvaluationError          at run time: missing key, type mismatch
    │       └── ExpressionTooCostly  over the run's expression cost or
    │                                result-size limit              (not retryable)
    └── NodeFailure              a node attempt failed (activity side)
        ├── ConfigError          rendered config is not valid        (not retryable)
        ├── EgressDenied         SSRF guard refused the destination  (not retryable)
        ├── Unauthorized         no valid proof that the API started the run,
        │                        so it may not act for an owner      (not retryable)
        ├── HttpStatusError      unexpected HTTP status (retryable only for
        │                        `retry_on_status`, default 408/429/5xx)
        ├── HttpNetworkError     connect/read failure, timeout      (retryable)
        ├── CircuitOpen          the node's circuit breaker is open: the
        │                        service was not called (retryable once the
        │                        breaker's reset timeout has passed)
        ├── StoreUnavailable     the worker's PostgreSQL (secrets, breakers,
        │                        delivery records) did not answer in time or
        │                        is out of reach                    (retryable)
        ├── ResponseTooLarge     body over `max_response_bytes`     (not retryable)
        ├── OutputTooLarge       a node's result (or the run's output)
        │                        is over the payload limit Temporal can
        │                        store (`max_payload_bytes`)        (not retryable)
        ├── ResponseInvalid      body is not what `response` asked   (not retryable)
        ├── ValidationFailed     a `validate` node found violations (not retryable)
        └── ScriptError          a `script` node's code raised, returned a value
            │                    that is not JSON, or could not run  (not retryable)
            ├── ScriptTimeout        ran past its `timeout`          (not retryable)
            ├── ScriptMemoryExceeded used more than `memory_mb`      (not retryable)
            └── SandboxUnavailable   this worker cannot sandbox scripts (no
                                     bubblewrap, or it cannot run)   (not retryable)

Run-level outcomes raised by the workflow: ``RunFailed`` (a node failed and
was not handled, or a `fail` node ran).
"""

from __future__ import annotations

from typing import Any


class FlowForgeError(Exception):
    """Base class of every error FlowForge raises on purpose."""


class DefinitionInvalid(FlowForgeError):
    """A definition failed validation; ``errors`` lists every problem."""

    def __init__(self, errors: list[Any]) -> None:
        self.errors = errors
        super().__init__(f"definition is invalid ({len(errors)} error(s))")


class SecretUnreadable(FlowForgeError):
    """A sealed secret does not open: another key sealed it, or it was altered or moved."""


class ExpressionError(FlowForgeError):
    """A CEL expression or template failed to compile or evaluate."""


class ExpressionSyntaxError(ExpressionError):
    """An expression does not compile; ``position`` is 1-based ``(line, column)``."""

    def __init__(self, message: str, position: tuple[int, int] | None = None) -> None:
        self.position = position
        super().__init__(message)


class EvaluationError(ExpressionError):
    """An expression failed at run time (missing key, type mismatch, ...)."""


class NodeFailure(FlowForgeError):
    """A node attempt failed. ``retryable`` tells whether another attempt may help."""

    retryable: bool = True
    retry_after: float | None = None
    """Seconds the upstream asked to wait (``Retry-After``); overrides the next delay."""

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        self.details = details or {}
        super().__init__(message)


class ConfigError(NodeFailure):
    """A node's rendered config is not valid or names a missing secret; not retryable."""

    retryable = False


class EgressDenied(NodeFailure):
    """The SSRF guard refused the destination of an outbound request; not retryable."""

    retryable = False


class Unauthorized(NodeFailure):
    """The run carries no valid proof that the API started it, so it may not act for an owner.

    Raised before a node reads secrets or other owner-scoped state; the message
    says why (no proof, a bad signature, a proof for another run or definition).
    Not retryable: the same run would fail the same way.
    """

    retryable = False


class HttpStatusError(NodeFailure):
    """A response came with a status the node does not expect; retryable per ``retry_on_status``.

    Whether it is retried is the node's ``retry.retry_on_status``'s to say (see
    :func:`interpreter.activities.base.to_application_error`); ``retryable=False``
    marks one no retry can fix, such as a redirect loop.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = True,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


class HttpNetworkError(NodeFailure):
    """An outbound request failed to connect, send or read, or timed out; retryable."""


class CircuitOpen(NodeFailure):
    """The service's circuit breaker is open, so the request was not sent; retryable.

    ``retry_after`` is the time left until the breaker lets a probe through,
    so the next attempt comes when it may succeed.
    """

    def __init__(
        self, message: str, *, retry_after: float, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after = retry_after


class StoreUnavailable(NodeFailure):
    """The worker's PostgreSQL did not answer within its bound, or is out of reach; retryable.

    The message names PostgreSQL, what was being read or written and the
    timeout that ran out, so the attempt's error says where the time went;
    another attempt succeeds once PostgreSQL answers again.
    """


class ResponseTooLarge(NodeFailure):
    """A response body is over ``max_response_bytes``; not retryable."""

    retryable = False


class OutputTooLarge(NodeFailure):
    """A node's result is larger than one Temporal payload may be; not retryable.

    The same call would give the same result, so the node fails at once (one
    request, not one per attempt). ``details`` carries ``bytes`` and ``limit``.
    """

    retryable = False


class ResponseInvalid(NodeFailure):
    """A response body is not what the node's ``response`` block asked for; not retryable."""

    retryable = False


class ValidationFailed(NodeFailure):
    """A ``validate`` node found violations in its data; not retryable."""

    retryable = False


class ScriptError(NodeFailure):
    """A ``script`` node's code raised, returned a value that is not JSON, or could not run.

    Not retryable: the same code on the same input would fail again.
    """

    retryable = False


class ScriptTimeout(ScriptError):
    """A ``script`` node's code ran past its ``timeout``; not retryable."""


class ScriptMemoryExceeded(ScriptError):
    """A ``script`` node's code used more than ``memory_mb`` of memory; not retryable."""


class SandboxUnavailable(ScriptError):
    """This worker cannot sandbox ``script`` nodes, so it runs none; not retryable.

    The message names what is missing (bubblewrap, user namespaces) and the
    settings that fix it; scripts never fall back to running unisolated.
    """


class ExpressionTooCostly(EvaluationError, NodeFailure):
    """An expression would cost more than its limit, or returned more bytes than allowed.

    Priced before it runs (:mod:`interpreter.dsl.cost`), so it never runs at
    all when over the cost limit. An evaluation error in workflow code, and a
    node failure in an activity; never retried: the same expression over the
    same values is refused again.
    """

    retryable = False


def expression_error_type(exc: ExpressionError) -> str:
    """The node error type an expression failure is reported as."""
    return "ExpressionTooCostly" if isinstance(exc, ExpressionTooCostly) else "ExpressionError"


def located(exc: ExpressionError, where: str) -> EvaluationError:
    """``exc`` as a run-time error whose message starts with ``where``; too costly stays so."""
    if isinstance(exc, ExpressionTooCostly):
        return ExpressionTooCostly(f"{where}: {exc}", details=exc.details)
    return EvaluationError(f"{where}: {exc}")
