"""The worker process's settings: the common ones and those below, read from the environment."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from interpreter.activities.script.sandbox import ScriptIsolation
from interpreter.contract.shared import DEFAULT_SIZE as DEFAULT_SHARED
from interpreter.egress import labelled, parse_endpoint
from interpreter.run_proof import KEY_HELP as RUN_KEY_HELP
from interpreter.secret_box import KEY_HELP
from interpreter.settings import CommaList, CommonSettings


class WorkerSettings(CommonSettings):
    """What ``python -m worker`` reads (each field's ``description`` says what for)."""

    max_concurrent_activities: int = Field(
        default=200, ge=1, description="Activity slots of this worker process."
    )
    max_concurrent_workflow_tasks: int = Field(
        default=100, ge=1, description="Workflow task slots of this worker process."
    )
    workflow_task_pollers: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Long polls this worker process keeps open for workflow tasks (the SDK's default, "
            "5, suits one worker; see docker-compose.yml for a deployment's)."
        ),
    )
    activity_task_pollers: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Long polls this worker process keeps open for activity tasks.",
    )
    egress_allow: CommaList = Field(
        default_factory=list,
        description=(
            "Comma-separated CIDRs, addresses and host names the SSRF guard lets through "
            "although they are not public, each on every port or on one: "
            "`127.0.0.1:9001,10.0.0.0/8:443,[::1]:8080,api.internal`. The stack's own "
            "addresses stay refused (see `FLOWFORGE_EGRESS_ALLOW_STACK`)."
        ),
    )
    stack_addresses: CommaList = Field(
        default_factory=list,
        description=(
            "Comma-separated `host:port` (or `host`: every port) where more of the FlowForge "
            "stack listens than the worker knows (it knows `TEMPORAL_ADDRESS`, its ports +10 "
            "and +1000, `DATABASE_URL` and its metrics port), optionally labelled: "
            "`FlowForge API=127.0.0.1:8000`. Nodes may never call them."
        ),
    )
    egress_allow_stack: CommaList = Field(
        default_factory=list,
        description=(
            "Comma-separated `host:port` of the stack that nodes may call on purpose (e.g. "
            "the API, for a workflow that drives FlowForge); still subject to "
            "`FLOWFORGE_EGRESS_ALLOW`. Logged at start."
        ),
    )
    attempt_log_flush_ms: int = Field(
        default=200,
        ge=0,
        le=10_000,
        description=(
            "Milliseconds a node attempt's row waits for others before one insert writes "
            "them all into `node_attempts` (the API's attempt log shows it that much later)."
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
    script_isolation: ScriptIsolation = Field(
        default="bwrap",
        description=(
            "`bwrap`: every script node runs in a bubblewrap sandbox (own user, mount, PID "
            "and network namespaces; only the interpreter and a private temp dir visible), "
            "and fails with `SandboxUnavailable` where it cannot; `none`: no isolation at "
            "all, for trusted code only (logged as a warning at start)."
        ),
    )
    script_bwrap: str = Field(
        default="bwrap",
        min_length=1,
        description="The bubblewrap executable script nodes run in: a name on `PATH` or a path.",
    )
    script_max_processes: int = Field(
        default=16,
        ge=1,
        le=4096,
        description="Processes and threads a script may run at once, its own included.",
    )
    script_max_file_mb: int = Field(
        default=16, ge=1, description="Largest file, in MiB, a script may write."
    )
    script_max_workdir_mb: int = Field(
        default=64,
        ge=1,
        description="MiB a script may keep in its private temp dir (a tmpfs: it is memory).",
    )
    script_max_output_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest JSON result a script's `main` may return (it becomes the output).",
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
    breaker_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        le=60,
        description=(
            "Seconds a worker trusts a circuit breaker it read closed, so calls to a healthy "
            "service cost no PostgreSQL query; a breaker another worker opened is seen within "
            "them (failures are always written at once). 0: read on every call."
        ),
    )
    shared_definitions: int = Field(
        default=DEFAULT_SHARED,
        ge=0,
        le=100_000,
        description=(
            "Parsed definitions the worker keeps to share among the runs it holds (and as "
            "many run options and run metadata), least recently used dropped first: runs "
            "of one workflow version share one copy instead of each parsing its own, "
            "which a parked run's memory was mostly made of. One costs a few times its "
            "definition's JSON (the API takes up to `FLOWFORGE_MAX_DEFINITION_BYTES`), and "
            "stays until dropped. 0: every run parses its own."
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

    @field_validator("egress_allow", "stack_addresses", "egress_allow_stack")
    @classmethod
    def _valid_endpoints(cls, value: list[str]) -> list[str]:
        # A typo in an allow-list must stop startup, not surface on a node's first call.
        for entry in value:
            parse_endpoint(labelled(entry, "")[1])
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
