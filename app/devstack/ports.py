"""Every port the dev stack will listen on is checked before anything starts.

A busy port is named with the setting that moves it, instead of surfacing
later as a child's crash (a taken Temporal port ends in a long Go panic).
"""

from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

from app.devstack.settings import DevSettings
from app.devstack.temporal import split_address


@dataclass(frozen=True)
class Listener:
    """A port the stack opens, and the setting that chooses it."""

    what: str
    host: str
    port: int
    setting: str


def listeners(settings: DevSettings) -> list[Listener]:
    """Every port ``flowforge dev`` is going to listen on."""
    temporal_host, temporal_port = split_address(settings.temporal_address)
    found = [
        Listener("Temporal", temporal_host, temporal_port, "TEMPORAL_ADDRESS"),
        Listener(
            "Temporal Web UI",
            temporal_host,
            settings.temporal_ui_port,
            "FLOWFORGE_TEMPORAL_UI_PORT",
        ),
        Listener(
            "Temporal HTTP API",
            temporal_host,
            settings.temporal_http_port,
            "FLOWFORGE_TEMPORAL_HTTP_PORT",
        ),
        Listener(
            "Temporal metrics",
            temporal_host,
            settings.temporal_metrics_port,
            "FLOWFORGE_TEMPORAL_METRICS_PORT",
        ),
        Listener("the API", settings.api_host, settings.api_port, "FLOWFORGE_API_PORT"),
        Listener(
            "the worker's metrics",
            "127.0.0.1",
            settings.worker_metrics_port,
            "FLOWFORGE_METRICS_PORT",
        ),
    ]
    if settings.dev_nats:
        found.append(
            Listener("NATS", "127.0.0.1", settings.dev_nats_port, "FLOWFORGE_DEV_NATS_PORT")
        )
    if settings.demo_api:
        found += [
            Listener(
                "the demo API",
                settings.demo_api_host,
                settings.demo_api_base_port + offset,
                "FLOWFORGE_DEMO_API_BASE_PORT (or FLOWFORGE_DEMO_API=false)",
            )
            for offset in range(5)
        ]
    return [listener for listener in found if listener.port]


def _busy(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as probe:
        # As servers bind: a port left in TIME_WAIT by a stopped stack is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False


def busy_port_problems(settings: DevSettings) -> list[str]:
    """One line per port that is taken already, naming the setting that moves it."""
    return [
        f"{listener.host}:{listener.port} ({listener.what}) is already in use: stop what "
        f"listens there (an earlier `make dev`?) or set {listener.setting}"
        for listener in listeners(settings)
        if _busy(listener.host, listener.port)
    ]
