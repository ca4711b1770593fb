"""The worker's part of a run's trace (see :mod:`interpreter.tracing`): one span per node attempt.

Temporal's ``TracingInterceptor`` makes the spans (``RunWorkflow``,
``StartActivity:http``, one ``RunActivity:http`` per attempt) and carries the
trace from the API's start through the workflow to each attempt.
:class:`NodeSpanInterceptor` names, on each attempt's span, what FlowForge
knows of it: the run, its workflow and version, the node, its type, the
attempt and how it ended; and lets ``http`` and ``webhook`` nodes send the
trace on (``traceparent``).

The workflow and version come from the run's search attributes, read by the
workflow as it schedules the activity and handed on in a header of its own:
the activity has no other way to know them. Headers are not part of a
workflow's determinism, so runs recorded with tracing off replay with it on.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.client import Client
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from interpreter import tracing
from interpreter.activities.base import ActivityRequest, attempt_of
from interpreter.contract import search_attributes as sa
from worker.attempts import outcome_of
from worker.settings import WorkerSettings

RUN_HEADER = "flowforge-run"
"""Activity header holding ``{"workflow_id", "version"}`` of the run that scheduled it."""
_CONVERTER = PayloadConverter.default


def node_tracing(client: Client, settings: WorkerSettings) -> list[Interceptor]:
    """The interceptors that trace a worker's runs; none while ``FLOWFORGE_TRACING`` is off.

    Temporal's own is left out when ``client`` already has it (a client's
    interceptors apply to its workers too: twice would make every span twice).
    """
    outbound = settings.tracing_outbound
    if tracing.setup(settings.tracing, "flowforge-worker", outbound=outbound) is None:
        return []
    has_own = any(tracing.is_temporal_interceptor(i) for i in client.config()["interceptors"])
    from interpreter.runtime.run_tracing import RunTracingInterceptor

    own: list[Interceptor] = [] if has_own else [RunTracingInterceptor(tracing.tracer())]
    return [*own, NodeSpanInterceptor()]


class NodeSpanInterceptor(Interceptor):
    """Describes each node attempt on its span (see the module docstring)."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        """Wrap the activity inbound chain (inside Temporal's span)."""
        return _AttemptSpan(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        """The workflow side: hands the run's workflow and version to its activities."""
        return _RunHeaderInbound


class _RunHeaderInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        super().init(_RunHeaderOutbound(outbound))


class _RunHeaderOutbound(WorkflowOutboundInterceptor):
    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = {**input.headers, RUN_HEADER: _run_header()}
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = {**input.headers, RUN_HEADER: _run_header()}
        return super().start_local_activity(input)


def _run_header() -> Any:
    """The run's workflow and version, as the payload of :data:`RUN_HEADER`."""
    found = workflow.info().typed_search_attributes
    run = {"workflow_id": found.get(sa.WORKFLOW_ID), "version": found.get(sa.VERSION)}
    return _CONVERTER.to_payloads([run])[0]


class _AttemptSpan(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        request = input.args[0] if input.args else None
        if not isinstance(request, ActivityRequest):
            return await self.next.execute_activity(input)
        from opentelemetry import trace

        span = trace.get_current_span()
        span.set_attributes(_attributes(request, input))
        failure: BaseException | None = None
        try:
            with tracing.outbound_allowed():
                return await self.next.execute_activity(input)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            span.set_attribute("flowforge.status", outcome_of(failure)[0])


def _attributes(request: ActivityRequest, input: ExecuteActivityInput) -> dict[str, Any]:
    values: dict[str, Any] = {
        "flowforge.run_id": request.run_id,
        "flowforge.node_id": request.node_id,
        "flowforge.node_path": request.node_path,
        "flowforge.node_type": request.node_type,
        # A local node's attempts are each Temporal's first: the request counts them.
        "flowforge.attempt": attempt_of(request),
    }
    header = input.headers.get(RUN_HEADER)
    if header is not None:
        run = _CONVERTER.from_payloads([header])[0]
        values["flowforge.workflow_id"] = run.get("workflow_id")
        values["flowforge.workflow_version"] = run.get("version")
    return {name: value for name, value in values.items() if value is not None}
