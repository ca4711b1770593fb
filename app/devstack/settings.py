"""The dev supervisor's settings (``flowforge dev``): the common ones and those below.

It reads what it needs to start Temporal, PostgreSQL, a worker and the API and
to tell them about each other; everything else in its environment reaches
them untouched (see ``services.inherited_env``).
"""

from __future__ import annotations

from pydantic import Field

from app.settings import FirstAdminSettings, TemporalUiSettings
from interpreter.settings import CommonSettings


class DevSettings(CommonSettings, FirstAdminSettings, TemporalUiSettings):
    """What ``flowforge dev`` reads (each field's ``description`` says what for)."""

    temporal_ui_port: int = Field(
        default=8233, description="Port of the dev server's Temporal Web UI."
    )
    api_host: str = Field(
        default="127.0.0.1", description="Address `flowforge dev` serves the API on."
    )
    api_port: int = Field(default=8000, description="Port `flowforge dev` serves the API on.")
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
