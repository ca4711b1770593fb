"""Prometheus metrics of one API process (each process is scraped on its own).

No series carries a tenant's identifier (workflow, run, user or hook id): routes
are labelled by their template and runs by trigger, so ``/metrics`` tells nobody
what another tenant runs, whether or not it asks for a token.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """The API's metrics, in a registry of their own so several apps can share a process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "flowforge_http_requests",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "flowforge_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            registry=self.registry,
        )
        self.runs_started = Counter(
            "flowforge_runs_started",
            "Runs started, by trigger (api, schedule, webhook, event, rerun).",
            ["trigger"],
            registry=self.registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and record how long it took, by route template."""
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
