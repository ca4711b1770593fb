"""What the dev stack runs besides Temporal and PostgreSQL: command lines and environment."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.devstack.credentials import DEFAULT_ADMIN, DevSecret, persistent_secret
from app.devstack.settings import DevSettings
from app.devstack.temporal import split_address
from interpreter.egress import join_host_port

MIGRATE = [sys.executable, "-m", "app.cli", "db", "upgrade"]
WORKER = [sys.executable, "-m", "worker"]
DEMO_API = [sys.executable, "-m", "app.cli", "demo-api"]


def api_argv(settings: DevSettings) -> list[str]:
    """Uvicorn serving the API where FLOWFORGE_API_HOST/FLOWFORGE_API_PORT say."""
    return [
        *(sys.executable, "-m", "uvicorn", "app.main:app"),
        *("--host", settings.api_host, "--port", str(settings.api_port)),
        # Below the supervisor's grace, so open streams (SSE) cannot hold up Ctrl-C.
        *("--timeout-graceful-shutdown", "3"),
        # The API writes its own structured access log.
        "--no-access-log",
        # Above the API's own check, which answers oversized headers with a clear 431.
        *("--h11-max-incomplete-event-size", str(settings.h11_max_incomplete_event_size)),
    ]


def sqlalchemy_url(url: str) -> str:
    """The ``postgresql+asyncpg://`` form that DATABASE_URL takes (a plain URL is converted)."""
    return url.replace("postgresql://", "postgresql+asyncpg://", 1)


@dataclass(frozen=True)
class Admin:
    """The first admin the API creates at startup."""

    username: str
    password: DevSecret


def admin(settings: DevSettings, data_dir: Path) -> Admin:
    """FLOWFORGE_ADMIN_USERNAME/PASSWORD, else ``admin`` with a password kept in the data dir."""
    password = persistent_secret(data_dir / "admin_password", settings.admin_password)
    return Admin(settings.admin_username or DEFAULT_ADMIN, password)


def ui_url(settings: DevSettings) -> str:
    """FLOWFORGE_TEMPORAL_UI_URL if given, else the dev server's UI address."""
    if "temporal_ui_url" in settings.model_fields_set:
        return settings.temporal_ui_url
    host, _ = split_address(settings.temporal_address)
    return f"http://{host}:{settings.temporal_ui_port}"


def stack_addresses(settings: DevSettings) -> str:
    """Where the API and Temporal's other listeners are: the worker cannot know them itself."""
    temporal_host, _ = split_address(settings.temporal_address)
    return ",".join(
        [
            f"FlowForge API={join_host_port(settings.api_host, settings.api_port)}",
            f"Temporal Web UI={join_host_port(temporal_host, settings.temporal_ui_port)}",
            f"Temporal HTTP API={join_host_port(temporal_host, settings.temporal_http_port)}",
            f"Temporal metrics={join_host_port(temporal_host, settings.temporal_metrics_port)}",
        ]
    )


def inherited_env() -> dict[str, str]:
    """The supervisor's own environment, passed on whole to its children.

    It carries PATH, and any FLOWFORGE_* the API or worker reads
    (FLOWFORGE_EGRESS_ALLOW, for one) that this process's settings do not know.
    """
    return dict(os.environ)


def child_env(
    settings: DevSettings, data_dir: Path, database_url: str, first: Admin
) -> dict[str, str]:
    """The environment of the migration, worker and API processes.

    Ours (see :func:`inherited_env`) with the stack's own addresses and the
    first admin on top, so they talk to exactly the servers this supervisor started.
    """
    ui = urlsplit(ui_url(settings))
    return {
        # Below the supervisor's grace, so the worker cancels its activities
        # itself instead of being killed; a value the user set wins.
        "FLOWFORGE_GRACEFUL_SHUTDOWN_SECONDS": "3",
        # The dev UI decodes payloads through the API's codec from its own origin.
        "FLOWFORGE_TEMPORAL_UI_ORIGINS": f"{ui.scheme}://{ui.netloc}",
        # Lines for a person: short, coloured when this terminal is, no
        # traceback for an attempt that failed as expected.
        "FLOWFORGE_LOG_FORMAT": "console",
        "FLOWFORGE_LOG_COLOUR": "always" if sys.stdout.isatty() else "never",
        **inherited_env(),
        # The one dev worker serves its SDK metrics there.
        "FLOWFORGE_METRICS_PORT": str(settings.worker_metrics_port),
        # The worker refuses nodes' calls to these even when FLOWFORGE_EGRESS_ALLOW covers them.
        "FLOWFORGE_STACK_ADDRESSES": stack_addresses(settings),
        "PYTHONUNBUFFERED": "1",
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "FLOWFORGE_TASK_QUEUE": settings.task_queue,
        "FLOWFORGE_TEMPORAL_UI_URL": ui_url(settings),
        # The API keeps its dev signing key there: tokens survive a restart.
        "FLOWFORGE_DATA_DIR": str(data_dir),
        "FLOWFORGE_ADMIN_USERNAME": first.username,
        "FLOWFORGE_ADMIN_PASSWORD": first.password.value,
        **demo_egress(settings),
    }


def demo_egress(settings: DevSettings) -> dict[str, str]:
    """FLOWFORGE_EGRESS_ALLOW with the demo API's ports added, when the stack runs it."""
    if not settings.demo_api:
        return {}
    allowed = [part for part in os.environ.get("FLOWFORGE_EGRESS_ALLOW", "").split(",") if part]
    return {"FLOWFORGE_EGRESS_ALLOW": ",".join([*allowed, *settings.demo_endpoints()])}


def demo_url(settings: DevSettings) -> str:
    """Where the demo API's first service (inventory) answers."""
    host = (
        f"[{settings.demo_api_host}]" if ":" in settings.demo_api_host else settings.demo_api_host
    )
    return f"http://{host}:{settings.demo_api_base_port}"


def api_url(settings: DevSettings) -> str:
    """Where the dev stack's API answers."""
    return f"http://{settings.api_host}:{settings.api_port}"


def banner(settings: DevSettings, data_dir: Path, first: Admin) -> list[str]:
    """What to tell the developer once everything answers.

    A generated admin password is shown on the run that generated it only.
    """
    stored = data_dir / "admin_password"
    if first.password.generated:
        login = f"{first.username} / {first.password.value}  (shown only now; kept in {stored})"
    elif settings.admin_password:
        login = f"{first.username} (password from FLOWFORGE_ADMIN_PASSWORD)"
    else:
        login = f"{first.username} (password in {stored})"
    return [
        "FlowForge is up. Ctrl-C stops everything.",
        f"  API docs:        {api_url(settings)}/docs",
        f"  Temporal Web UI: {ui_url(settings)}",
        f"  Worker metrics:  http://127.0.0.1:{settings.worker_metrics_port}/metrics",
        f"  Admin login:     {login}",
        *(
            [
                f"  Demo API:        {demo_url(settings)}-{settings.demo_api_base_port + 4} "
                "(docs/DEMO.md; FLOWFORGE_DEMO_API=false turns it off)"
            ]
            if settings.demo_api
            else []
        ),
    ]
