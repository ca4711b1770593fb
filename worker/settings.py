"""The worker process's settings: the common ones and those below, read from the environment."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

from interpreter.run_proof import KEY_HELP as RUN_KEY_HELP
from interpreter.secret_box import KEY_HELP
from interpreter.settings import CommonSettings


class WorkerSettings(CommonSettings):
    """What ``python -m worker`` reads (each field's ``description`` says what for)."""

    max_concurrent_activities: int = Field(
        default=200, ge=1, description="Activity slots of this worker process."
    )
    max_concurrent_workflow_tasks: int = Field(
        default=100, ge=1, description="Workflow task slots of this worker process."
    )
    egress_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Comma-separated CIDRs and host names the SSRF guard lets through although they "
            "are not public, e.g. `10.0.0.0/8,api.internal`."
        ),
    )
    http_max_connections: int = Field(
        default=200, ge=1, description="Size of the worker's one outbound HTTP connection pool."
    )
    http_max_redirects: int = Field(
        default=5,
        ge=0,
        le=20,
        description="Redirects an http node follows per request, each hop checked again.",
    )
    max_response_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Body cap of http nodes that set no `max_response_bytes`.",
    )
    script_default_timeout: float = Field(
        default=10.0, gt=0, description="Seconds a script node may run when it sets no timeout."
    )
    script_max_timeout: float = Field(
        default=300.0, gt=0, description="The longest timeout a script node may set, in seconds."
    )
    script_default_memory_mb: int = Field(
        default=256, ge=16, description="MiB a script node may use when it sets no limit."
    )
    script_max_memory_mb: int = Field(
        default=2048, ge=16, description="The most MiB a script node may ask for."
    )
    script_require_network_isolation: bool = Field(
        default=False,
        description=(
            "Refuse scripts on a machine that cannot give them a network namespace of "
            "their own (instead of running them with the host's network)."
        ),
    )
    graceful_shutdown_seconds: float = Field(
        default=30.0,
        ge=0,
        description=(
            "On SIGTERM, how long running activities may finish before they are cancelled "
            "(`flowforge dev` gives its worker 3 unless this is set)."
        ),
    )
    metrics_host: str = Field(
        default="127.0.0.1", description="Address the worker's Prometheus metrics listen on."
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description=(
            "Port of the worker's Prometheus SDK metrics (`/metrics`); 0: none. One port per "
            "worker process."
        ),
    )
    heartbeat_throttle_seconds: float = Field(
        default=2.0,
        gt=0,
        description=(
            "Longest gap between two heartbeats an activity sends to the server; it bounds "
            "how long an activity takes to see a cancellation."
        ),
    )

    @field_validator("egress_allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _plain_postgres_url(cls, value: str) -> str:
        # asyncpg takes the plain form; the API's SQLAlchemy form names the same database.
        for prefix in ("postgresql+asyncpg://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql://" + value.removeprefix(prefix)
        if value:
            raise ValueError(
                "DATABASE_URL must be a PostgreSQL URL such as "
                "postgresql://user:password@host:5432/flowforge"
            )
        return value

    @model_validator(mode="after")
    def _secrets_key_outside_dev(self) -> WorkerSettings:
        if self.environment == "prod" and self.database_url and not self.secrets_key:
            raise ValueError(
                "FLOWFORGE_SECRETS_KEY must be set outside dev (the API's key). " + KEY_HELP
            )
        if self.environment == "prod" and self.database_url and not self.run_signing_key:
            raise ValueError(
                "FLOWFORGE_RUN_SIGNING_KEY must be set outside dev (the API's key). " + RUN_KEY_HELP
            )
        return self
