"""Links from a run into the Temporal Web UI."""

from __future__ import annotations

from urllib.parse import quote

from app.runs.ids import run_id_segment
from app.runs.schemas import TemporalLink
from app.settings import Settings


def temporal_link(settings: Settings, workflow_id: str, run_id: str | None) -> TemporalLink:
    """The Temporal Web UI page of ``workflow_id``: ``run_id``'s history, else its newest run."""
    base = settings.temporal_ui_url.rstrip("/")
    url = f"{base}/namespaces/{quote(settings.temporal_namespace, safe='')}/workflows/"
    url += quote(workflow_id, safe="")
    if run_id:
        url += f"/{quote(run_id, safe='')}/history"
    return TemporalLink(workflow_id=workflow_id, run_id=run_id, ui_url=url)


def dashboard_url(settings: Settings, request_base: str, run_id: str) -> str:
    """The run's dashboard page, on ``FLOWFORGE_PUBLIC_URL`` (else the request's base URL)."""
    base = (settings.public_url or request_base).rstrip("/")
    return f"{base}/ui/runs/{quote(run_id_segment(run_id), safe='~')}"
