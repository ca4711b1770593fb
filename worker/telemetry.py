"""The worker's Temporal runtime: SDK metrics in Prometheus format, core logs as JSON lines."""

from __future__ import annotations

import logging

from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

from worker.settings import WorkerSettings

# Core's INFO lines are per-poller chatter; below DEBUG they stay at WARN.
_CORE_LEVELS = {"DEBUG": "DEBUG", "INFO": "WARN", "WARNING": "WARN", "ERROR": "ERROR"}


def worker_runtime(settings: WorkerSettings) -> Runtime:
    """A Temporal runtime whose core logs go through Python logging, so stderr stays JSON.

    It serves ``/metrics`` on ``metrics_host:metrics_port`` unless that port is 0.
    """
    address = f"{settings.metrics_host}:{settings.metrics_port}"
    core = LoggingConfig(
        filter=TelemetryFilter(core_level=_CORE_LEVELS[settings.log_level], other_level="ERROR"),
        forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
    )
    metrics = PrometheusConfig(bind_address=address) if settings.metrics_port else None
    return Runtime(telemetry=TelemetryConfig(logging=core, metrics=metrics))
