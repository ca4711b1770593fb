"""The worker process's configuration: one Settings, read from the environment."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from interpreter.secret_box import KEY_HELP, parse_key


class WorkerSettings(BaseSettings):
    """Attributes:
    temporal_address: ``host:port`` of the Temporal frontend. Env: ``TEMPORAL_ADDRESS``.
    task_queue: The queue this worker polls (workflows and activities).
    max_concurrent_activities: Activity slots of this process.
    max_concurrent_workflow_tasks: Workflow task slots of this process.
    egress_allow: CIDRs and host names the SSRF guard lets through although
        they are not public (comma-separated), e.g. ``10.0.0.0/8,api.internal``.
    http_max_connections: Size of the worker's shared HTTP connection pool.
    max_response_bytes: Body cap of http nodes that set no ``max_response_bytes``.
    script_*: Limits of ``script`` nodes (seconds, MiB); with
        ``script_require_network_isolation`` scripts are refused on a machine
        that cannot give them their own network namespace.
    metrics_port: Serve the SDK's Prometheus metrics on ``metrics_host:metrics_port``
        (0, the default, serves none; one port per worker process).
    graceful_shutdown_seconds: On SIGTERM, how long running activities may
        finish before they are cancelled.
    heartbeat_throttle_seconds: Upper bound between two heartbeats sent to the
        server; it bounds how long an activity takes to see a cancellation.
    database_url: PostgreSQL where webhook delivery attempts are recorded
        (``postgresql://`` or ``postgresql+asyncpg://``, kept in the plain form
        asyncpg takes); empty: they are not recorded. Env: ``DATABASE_URL``.
        Secrets and circuit breakers live there too: without it, nodes that
        read secrets fail and calls run without circuit breakers.
    environment: ``dev``/``test`` allow the generated secrets key; ``prod`` refuses it.
    data_dir: Where the dev/test secrets key is kept (the API's ``data_dir``).
    secrets_key: The API's ``FLOWFORGE_SECRETS_KEY``; required in prod when
        ``database_url`` is set.
    """

    model_config = SettingsConfigDict(env_prefix="FLOWFORGE_", extra="ignore")

    temporal_address: str = Field(default="127.0.0.1:7233", validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    task_queue: str = "flowforge"
    max_concurrent_activities: int = Field(default=200, ge=1)
    max_concurrent_workflow_tasks: int = Field(default=100, ge=1)
    egress_allow: Annotated[list[str], NoDecode] = Field(default_factory=list)
    http_max_connections: int = Field(default=200, ge=1)
    http_max_redirects: int = Field(default=5, ge=0, le=20)
    max_response_bytes: int = Field(default=1_048_576, ge=1024)
    script_default_timeout: float = Field(default=10.0, gt=0)
    script_max_timeout: float = Field(default=300.0, gt=0)
    script_default_memory_mb: int = Field(default=256, ge=16)
    script_max_memory_mb: int = Field(default=2048, ge=16)
    script_require_network_isolation: bool = False
    graceful_shutdown_seconds: float = Field(default=30.0, ge=0)
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=0, ge=0, le=65535)
    heartbeat_throttle_seconds: float = Field(default=2.0, gt=0)
    database_url: str = Field(default="", validation_alias="DATABASE_URL")
    environment: Literal["dev", "test", "prod"] = "dev"
    data_dir: str = ".data"
    secrets_key: str = ""

    @field_validator("egress_allow", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _plain_postgres_url(cls, value: str) -> str:
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
        if self.secrets_key:
            parse_key(self.secrets_key)  # a bad key stops startup, not the first secret use
        elif self.environment == "prod" and self.database_url:
            raise ValueError(
                "FLOWFORGE_SECRETS_KEY must be set outside dev (the API's key). " + KEY_HELP
            )
        return self
