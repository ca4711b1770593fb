"""OpenTelemetry traces of runs: off unless ``FLOWFORGE_TRACING`` is on.

A run's trace starts at the API request that starts it (continuing the
caller's ``traceparent`` if it sent one), goes through Temporal's
``TracingInterceptor`` to the workflow, to every node activity attempt and
every node the workflow runs itself, and on to the services ``http`` and
``webhook`` nodes call (their requests carry ``traceparent``, unless
``FLOWFORGE_TRACING_OUTBOUND`` is off). A run started without a trace (a
schedule's) gets one of its own from its worker
(:mod:`interpreter.runtime.trace_root`).

Exporters come from the standard ``OTEL_*`` variables: ``OTEL_TRACES_EXPORTER``
names them (``otlp`` when unset, as the specification says; ``console``
ships with the SDK), each reads its own (``OTEL_EXPORTER_OTLP_ENDPOINT``...),
``OTEL_SERVICE_NAME`` and ``OTEL_RESOURCE_ATTRIBUTES`` name the process,
``OTEL_TRACES_SAMPLER`` samples, ``OTEL_BSP_*`` batch, ``OTEL_SDK_DISABLED``
turns it all off.

While tracing is off nothing here imports OpenTelemetry, no interceptor is
installed, and what is asked on every node attempt and log line is one
module-level flag.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from temporalio.contrib.opentelemetry import TracingInterceptor

TRACER_NAME = "flowforge"
EXPORTER_GROUP = "opentelemetry_traces_exporter"
"""The entry point group exporter packages register their names in (the SDK's own ``console``)."""

_provider: TracerProvider | None = None
_enabled = False
_send_outbound = True
_outbound: ContextVar[bool] = ContextVar("flowforge_trace_outbound", default=False)


def enabled() -> bool:
    """Whether this process traces (set by :func:`setup`); what log lines ask."""
    return _enabled


_OTLP_BY_PROTOCOL = {"http/protobuf": "otlp_proto_http", "grpc": "otlp_proto_grpc"}


def _otlp_by_protocol() -> str:
    # As the SDK's own setup: plain `otlp` is the exporter of the configured protocol,
    # here http/protobuf when none is (the specification's default; the extra ships it).
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get(
        "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"
    )
    if protocol.strip() not in _OTLP_BY_PROTOCOL:
        raise ValueError(
            f"OTEL_EXPORTER_OTLP_PROTOCOL: {protocol!r} is none of "
            + ", ".join(sorted(_OTLP_BY_PROTOCOL))
        )
    return _OTLP_BY_PROTOCOL[protocol.strip()]


def _exporters(names: str) -> list[Any]:
    found = {point.name: point for point in entry_points(group=EXPORTER_GROUP)}
    exporters: list[Any] = []
    for name in (part.strip() for part in names.split(",")):
        if name in ("", "none"):
            continue
        if name == "otlp":
            name = _otlp_by_protocol()
        if name not in found:
            known = ", ".join(sorted(found)) or "none"
            raise ValueError(
                f"OTEL_TRACES_EXPORTER: no exporter {name!r} is installed (installed: {known}); "
                "install one (`pip install 'flowforge[otlp]'` for otlp) or name another"
            )
        exporters.append(found[name].load()())
    return exporters


def env_provider(service_name: str) -> TracerProvider:
    """A provider set up by the standard ``OTEL_*`` variables (see the module docstring).

    Raises:
        ValueError: ``OTEL_TRACES_EXPORTER`` names an exporter that is not installed,
            or ``OTEL_EXPORTER_OTLP_PROTOCOL`` a protocol that does not exist.
    """
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES (attributes given
    # to it would win over them: the default name goes in only when they name no service).
    # TracerProvider reads OTEL_TRACES_SAMPLER and OTEL_SDK_DISABLED, each processor OTEL_BSP_*.
    resource = Resource.create()
    if str(resource.attributes.get(SERVICE_NAME, "")).startswith("unknown_service"):
        resource = resource.merge(Resource({SERVICE_NAME: service_name}))
    provider = TracerProvider(resource=resource)
    for exporter in _exporters(os.environ.get("OTEL_TRACES_EXPORTER", "otlp")):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def setup(on: bool, service_name: str, *, outbound: bool = True) -> TracerProvider | None:
    """Turn tracing on for this process (once; later calls return the same provider).

    Args:
        on: ``FLOWFORGE_TRACING``; off, nothing is imported and None returned.
        service_name: ``service.name`` unless ``OTEL_SERVICE_NAME`` says otherwise.
        outbound: ``FLOWFORGE_TRACING_OUTBOUND``: whether node requests carry ``traceparent``.

    Raises:
        ValueError: ``OTEL_TRACES_EXPORTER`` names an exporter that is not installed.
    """
    global _enabled, _provider, _send_outbound
    if not on:
        return None
    if _provider is None:
        _provider = env_provider(service_name)
    _enabled = True
    _send_outbound = outbound
    return _provider


def flush() -> None:
    """Export the spans still batched (a process that stops calls it last)."""
    if _enabled and _provider is not None:
        _provider.force_flush()


def tracer() -> Any:
    """FlowForge's tracer on the process's provider (:func:`setup` first)."""
    assert _provider is not None, "tracing.setup() was not called"
    return _provider.get_tracer(TRACER_NAME)


def temporal_interceptor() -> TracingInterceptor:
    """Temporal's interceptor on FlowForge's tracer, for a client (the API's).

    A worker's extends it (:mod:`interpreter.runtime.run_tracing`): a run started
    without a trace gets one of its own, and workflow-side nodes get spans.
    """
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return TracingInterceptor(tracer())


def is_temporal_interceptor(interceptor: object) -> bool:
    """Whether ``interceptor`` is Temporal's tracing one (a worker's client may have it)."""
    if not _enabled:
        return False
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return isinstance(interceptor, TracingInterceptor)


def extract(headers: Mapping[str, str]) -> Any:
    """The context of an inbound ``traceparent`` (W3C trace context only, never baggage)."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract(headers)


def inject(headers: MutableMapping[str, str]) -> None:
    """Add the current span's ``traceparent`` to ``headers`` (no baggage: it may hold ids)."""
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    TraceContextTextMapPropagator().inject(headers)


def add_trace_context(headers: MutableMapping[str, str]) -> None:
    """Send the node attempt's ``traceparent`` on its request, when tracing and allowed to.

    A ``traceparent`` the node's config sets is kept.
    """
    if _outbound.get() and "traceparent" not in headers:
        inject(headers)


@contextmanager
def outbound_allowed() -> Iterator[None]:
    """While in it, :func:`add_trace_context` sends ``traceparent`` (per ``outbound``)."""
    token = _outbound.set(_send_outbound)
    try:
        yield
    finally:
        _outbound.reset(token)


def current_trace_id() -> str | None:
    """The current span's trace id (32 hex digits), or None when tracing is off or outside one."""
    if not _enabled:
        return None
    from opentelemetry import trace

    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None
