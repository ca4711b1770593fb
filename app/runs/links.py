"""Links from a run into the Temporal Web UI."""

from __future__ import annotations

from urllib.parse import quote

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
