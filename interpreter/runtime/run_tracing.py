"""Temporal's ``TracingInterceptor``, extended for FlowForge's runs (imported only while tracing).

Beyond Temporal's spans, it gives the workflows of a tracing worker two
extern functions (workflow code calls them; they run outside the sandbox):

- :data:`~interpreter.runtime.trace_root.TRACE_ROOT_EXTERN`: the root span of
  a run started without a trace (a schedule's), with the ids the workflow
  derived (:func:`~interpreter.runtime.trace_root.trace_root`), under which
  Temporal's spans of the run then hang;
- :data:`~interpreter.runtime.trace_root.NODE_SPAN_EXTERN`: the span of a
  workflow-side node (:mod:`interpreter.runtime.node_spans`), under the
  workflow's current trace context.
"""

from __future__ import annotations

import copy
from typing import Any

import opentelemetry.context
from opentelemetry import trace
from opentelemetry.sdk.trace.id_generator import IdGenerator
from opentelemetry.trace import SpanKind, Status, StatusCode
from temporalio import workflow
from temporalio.contrib.opentelemetry import TracingInterceptor, TracingWorkflowInboundInterceptor
from temporalio.worker import (
    ExecuteWorkflowInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from interpreter.contract.run import RunInput
from interpreter.runtime.arms import placed
from interpreter.runtime.trace_root import NODE_SPAN_EXTERN, TRACE_ROOT_EXTERN, trace_root


class _FixedIds(IdGenerator):
    """Hands out the ids a run's root span must have (derived by its workflow)."""

    def __init__(self, trace_id: int, span_id: int) -> None:
        self._trace_id = trace_id
        self._span_id = span_id

    def generate_trace_id(self) -> int:
        return self._trace_id

    def generate_span_id(self) -> int:
        return self._span_id


class RunTracingInterceptor(TracingInterceptor):
    """Temporal's tracing, plus a trace for untraced starts and spans of workflow-side nodes."""

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[TracingWorkflowInboundInterceptor]:
        """Temporal's workflow interceptor that roots untraced runs; installs the externs."""
        super().workflow_interceptor_class(input)
        input.unsafe_extern_functions.update(
            {TRACE_ROOT_EXTERN: self._root_span, NODE_SPAN_EXTERN: self._node_span}
        )
        return _RootingInbound

    def _root_span(
        self, trace_id: int, span_id: int, name: str, attributes: dict[str, Any], time_ns: int
    ) -> None:
        tracer = self.tracer
        if not hasattr(tracer, "id_generator"):  # not the SDK's tracer: it cannot be given ids
            return
        rooted = copy.copy(tracer)
        rooted.id_generator = _FixedIds(trace_id, span_id)
        span = rooted.start_span(
            name,
            context=opentelemetry.context.Context(),
            kind=SpanKind.SERVER,
            attributes=attributes,
            start_time=time_ns,
        )
        span.end(end_time=time_ns)

    def _node_span(
        self,
        name: str,
        attributes: dict[str, Any],
        start_ns: int,
        end_ns: int,
        error: str | None,
    ) -> None:
        context = opentelemetry.context.get_current()
        if trace.get_current_span(context) is trace.INVALID_SPAN:
            return  # the run has no trace (started untraced on an untraced worker's watch)
        span = self.tracer.start_span(
            name, context, kind=SpanKind.INTERNAL, attributes=attributes, start_time=start_ns
        )
        if error is not None:
            span.set_status(Status(StatusCode.ERROR, error))
        span.end(end_time=end_ns)


class _RootingInbound(TracingWorkflowInboundInterceptor):
    def __init__(self, next: WorkflowInboundInterceptor) -> None:
        super().__init__(next)
        self._root_extern = workflow.extern_functions()[TRACE_ROOT_EXTERN]

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        run = input.args[0] if input.args else None
        ids = trace_root(run) if isinstance(run, RunInput) else None
        if isinstance(run, RunInput) and ids is not None:
            trace_id, span_id = ids
            # Temporal's interceptor reads the run's context from this carrier (its
            # start header, when it has one): the run's spans hang under its root.
            self._workflow_context_carrier = {
                "traceparent": f"00-{trace_id:032x}-{span_id:016x}-01"
            }
            if not workflow.unsafe.is_replaying():
                self._root_extern(
                    trace_id, span_id, f"StartRun:{run.meta.trigger}", _root_attributes(run),
                    workflow.time_ns(),
                )  # fmt: skip
        return await super().execute_workflow(input)


def _root_attributes(run: RunInput) -> dict[str, Any]:
    chosen = placed(run)
    values: dict[str, Any] = {
        "flowforge.run_id": workflow.info().workflow_id,
        "flowforge.workflow_id": chosen.meta.workflow_id,
        "flowforge.workflow_version": chosen.meta.version,
        "flowforge.trigger": chosen.meta.trigger,
        "flowforge.arm": chosen.meta.arm,
    }
    return {name: value for name, value in values.items() if value is not None}
