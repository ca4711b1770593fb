"""The worker's SDK metrics (task latencies, slots, poll results) in Prometheus format."""

from __future__ import annotations

from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from worker.settings import WorkerSettings


def metrics_runtime(settings: WorkerSettings) -> Runtime | None:
    """A Temporal runtime serving ``/metrics`` on ``metrics_port``; None when it is 0."""
    if not settings.metrics_port:
        return None
    address = f"{settings.metrics_host}:{settings.metrics_port}"
    return Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
