"""The API's (and the CLI's dev supervisor's) configuration: one Settings per process."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from interpreter.secret_box import KEY_HELP, parse_key


class Settings(BaseSettings):
    """Read from the environment (``FLOWFORGE_*``, plus the unprefixed names below).

    Attributes:
        environment: ``dev`` allows generated secrets; ``prod`` refuses them.
        database_url: SQLAlchemy URL (``postgresql+asyncpg://...``). Env: ``DATABASE_URL``.
            Empty in dev means: start the embedded PostgreSQL under ``data_dir``.
        temporal_address: ``host:port`` of the Temporal frontend. Env: ``TEMPORAL_ADDRESS``.
        temporal_namespace: Env: ``TEMPORAL_NAMESPACE``.
        temporal_ui_url: Base URL of the Temporal Web UI, for run links.
        jwt_secret: HMAC key of access tokens. Empty in dev/test means: use the random
            key persisted in ``<data_dir>/jwt_secret`` (created on first start, mode 0600),
            so every API process of one checkout agrees. Required (32+ chars) in prod.
        secrets_key: Key of the secrets store (32 bytes, URL-safe base64), the same
            for the API and every worker. Empty in dev/test means: use the random key
            persisted in ``<data_dir>/secrets_key`` (created on first use, mode 0600),
            which workers with the same ``data_dir`` read too. Required in prod.
        admin_username: With ``admin_password``, the admin created at API start if no
            user has that name (an existing user is never changed).
        db_connect_timeout: Seconds to wait for a PostgreSQL connection before 503.
        temporal_connect_timeout: Seconds to wait for Temporal at first use before 503.
        temporal_rpc_timeout: Seconds for one Temporal call (start, describe, signal...).
        status_query_timeout: Seconds a run's worker has to answer its status query; past
            it, run details come from Temporal alone (no worker is polling).
        run_*, for_each_*, continue_as_new_after_events: The limits every run is
            started with (see ``interpreter.contract.run.RunOptions`` for each one's meaning).
        max_sub_workflow_depth: How deep ``sub_workflow`` nodes may nest: a run
            start resolves the targets this many levels down, and the run
            refuses to go deeper.
        public_url: The API's base URL as callers outside reach it (for the ``url`` of
            inbound webhooks); empty means the base URL of the request that created it.
        hook_max_body_bytes: Largest body an inbound webhook accepts (413 past it).
        hook_max_clock_skew: Seconds an inbound webhook's ``X-Timestamp`` may differ
            from the API's clock before the call is refused as a replay.
        metrics_max_runs: Workflow metrics read at most this many of the newest runs.
        run_events_poll_interval: Seconds between two status queries of a run whose
            events a client follows (``GET /runs/{id}/events``).
        run_events_max_seconds: An event stream ends after this long even if the run
            goes on; clients reconnect with ``Last-Event-ID``.
        worker_metrics_port: Where ``flowforge dev``'s worker serves its SDK metrics.
            Env: ``FLOWFORGE_METRICS_PORT`` (the worker's own setting of that name).
        api_url: Where the ``flowforge`` CLI sends API calls. Env: ``FLOWFORGE_API_URL``.
        token: Bearer token for the CLI; if empty, the one ``flowforge login`` stored
            under ``cli_config_dir`` is used. Env: ``FLOWFORGE_TOKEN``.
    """

    model_config = SettingsConfigDict(env_prefix="FLOWFORGE_", extra="ignore")

    environment: Literal["dev", "test", "prod"] = "dev"
    data_dir: str = ".data"

    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    temporal_address: str = Field(default="127.0.0.1:7233", validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    temporal_ui_url: str = "http://127.0.0.1:8233"
    temporal_ui_port: int = 8233
    task_queue: str = "flowforge"

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    worker_metrics_port: int = Field(
        default=9464, ge=0, le=65535, validation_alias="FLOWFORGE_METRICS_PORT"
    )

    jwt_secret: str = ""
    secrets_key: str = ""
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = "HS256"
    access_token_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)

    admin_username: str = ""
    admin_password: str = ""

    max_request_bytes: int = Field(default=1_048_576, ge=1024)
    max_definition_bytes: int = Field(default=262_144, ge=1024)
    max_nodes: int = Field(default=500, ge=1)
    run_default_max_concurrency: int = Field(default=100, ge=1)
    run_max_attempts_cap: int = Field(default=20, ge=1)
    run_max_snapshot_output_bytes: int = Field(default=16_384, ge=256)
    run_heartbeat_timeout_seconds: float = Field(default=30.0, gt=0)
    for_each_max_items: int = Field(default=1_000_000, ge=0)
    for_each_default_concurrency: int = Field(default=10, ge=1)
    for_each_batch_threshold: int = Field(default=200, ge=1)
    for_each_batch_size: int = Field(default=500, ge=1)
    for_each_parallel_batches: int = Field(default=4, ge=1)
    for_each_nodes_per_task: int = Field(default=2000, ge=1)
    continue_as_new_after_events: int = Field(default=0, ge=0)
    max_sub_workflow_depth: int = Field(default=5, ge=1, le=50)
    page_size_default: int = Field(default=50, ge=1)
    page_size_max: int = Field(default=200, ge=1)

    # The API's dependencies: short timeouts turn an unreachable one into a quick 503.
    db_connect_timeout: float = Field(default=5.0, gt=0)
    temporal_connect_timeout: float = Field(default=5.0, gt=0)
    temporal_rpc_timeout: float = Field(default=10.0, gt=0)
    status_query_timeout: float = Field(default=3.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    # Triggers (schedules, inbound webhooks, events) and run insights (metrics, live events).
    public_url: str = ""
    hook_max_body_bytes: int = Field(default=262_144, ge=1024)
    hook_max_clock_skew: float = Field(default=300.0, gt=0)
    metrics_max_runs: int = Field(default=500, ge=1, le=10_000)
    run_events_poll_interval: float = Field(default=0.5, gt=0)
    run_events_max_seconds: float = Field(default=300.0, gt=0)

    # The ``flowforge`` CLI's API client.
    api_url: str = "http://127.0.0.1:8000"
    token: str = ""
    cli_config_dir: str = "~/.config/flowforge"

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_dev(self) -> Settings:
        if self.environment == "prod" and len(self.jwt_secret) < 32:
            raise ValueError(
                "FLOWFORGE_JWT_SECRET must be set to at least 32 characters outside dev"
            )
        if self.secrets_key:
            parse_key(self.secrets_key)  # a bad key stops startup, not the first secret use
        elif self.environment == "prod":
            raise ValueError("FLOWFORGE_SECRETS_KEY must be set outside dev. " + KEY_HELP)
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
