"""The API process's settings, and the two areas it shares with the dev supervisor.

:class:`Settings` extends the settings every process shares
(:class:`interpreter.settings.CommonSettings`); each field's ``description``
is its documentation (the README's table is generated from it). The run
limits are not declared here: they are ``RunOptions`` fields, read from the
variables :data:`RUN_LIMIT_VARIABLES` names and handed to every run as they are.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from interpreter.contract.run import RunOptions
from interpreter.run_proof import KEY_HELP as RUN_KEY_HELP
from interpreter.secret_box import KEY_HELP
from interpreter.settings import CommaList, CommonSettings, FlatEnv, FlowForgeSettings

RUN_LIMIT_VARIABLES = {
    "default_max_concurrency": "FLOWFORGE_RUN_DEFAULT_MAX_CONCURRENCY",
    "max_attempts_cap": "FLOWFORGE_RUN_MAX_ATTEMPTS_CAP",
    "max_snapshot_output_bytes": "FLOWFORGE_RUN_MAX_SNAPSHOT_OUTPUT_BYTES",
    "heartbeat_timeout_seconds": "FLOWFORGE_RUN_HEARTBEAT_TIMEOUT_SECONDS",
    "max_payload_bytes": "FLOWFORGE_RUN_MAX_PAYLOAD_BYTES",
    "local_activity_max_seconds": "FLOWFORGE_LOCAL_ACTIVITY_MAX_SECONDS",
    "for_each_max_items": "FLOWFORGE_FOR_EACH_MAX_ITEMS",
    "for_each_default_concurrency": "FLOWFORGE_FOR_EACH_DEFAULT_CONCURRENCY",
    "for_each_batch_threshold": "FLOWFORGE_FOR_EACH_BATCH_THRESHOLD",
    "for_each_batch_size": "FLOWFORGE_FOR_EACH_BATCH_SIZE",
    "for_each_parallel_batches": "FLOWFORGE_FOR_EACH_PARALLEL_BATCHES",
    "for_each_nodes_per_task": "FLOWFORGE_FOR_EACH_NODES_PER_TASK",
    "continue_as_new_after_events": "FLOWFORGE_CONTINUE_AS_NEW_AFTER_EVENTS",
    "max_sub_workflow_depth": "FLOWFORGE_MAX_SUB_WORKFLOW_DEPTH",
    "expression_cost_limit": "FLOWFORGE_EXPRESSION_COST_LIMIT",
    "expression_result_bytes": "FLOWFORGE_EXPRESSION_RESULT_BYTES",
    "test_report_max_edges": "FLOWFORGE_TEST_REPORT_MAX_EDGES",
}
"""The variable of each ``RunOptions`` field the API reads (``activity_task_queue`` is none)."""


class FirstAdminSettings(FlowForgeSettings):
    """The first admin: the API creates it, ``flowforge dev`` makes up its password."""

    admin_username: str = Field(
        default="",
        description=(
            "With `FLOWFORGE_ADMIN_PASSWORD`, the admin the API creates at start if no user "
            "has that name (an existing user is never changed). `flowforge dev`: `admin` "
            "if empty."
        ),
    )
    admin_password: str = Field(
        default="",
        description=(
            "The first admin's password. `flowforge dev` generates one if empty, keeps it "
            "in `<data_dir>/admin_password` and shows it once."
        ),
    )


class TemporalUiSettings(FlowForgeSettings):
    """Where the Temporal Web UI is, for links to a run's history."""

    temporal_ui_url: str = Field(
        default="http://127.0.0.1:8233",
        description=(
            "Base URL of the Temporal Web UI, for run links. `flowforge dev` passes on the "
            "one given, else its dev server's UI."
        ),
    )
    temporal_ui_origins: CommaList = Field(
        default_factory=lambda: ["http://127.0.0.1:8233", "http://localhost:8233"],
        description=(
            "Comma-separated origins the Temporal Web UI is served from: the browser may "
            "call the API's codec endpoints (`/api/v1/codec`) from these only. `flowforge "
            "dev` passes on its UI's origin unless this is set."
        ),
    )

    @field_validator("temporal_ui_origins")
    @classmethod
    def _bare_origins(cls, value: list[str]) -> list[str]:
        # A browser sends its Origin without a trailing slash.
        return [origin.rstrip("/") for origin in value]


class HeaderLimitSettings(FlowForgeSettings):
    """How large request headers may be: the API checks it, ``flowforge dev`` tells uvicorn."""

    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description=(
            "Largest total size of a request's header names and values (431 past it). "
            "`flowforge dev` sets uvicorn's `--h11-max-incomplete-event-size` to this plus "
            "8 KiB for the request line."
        ),
    )

    @property
    def h11_max_incomplete_event_size(self) -> int:
        """Uvicorn's cap on an unparsed request head: above the API's own 431 check."""
        return self.max_header_bytes + REQUEST_LINE_ROOM


REQUEST_LINE_ROOM = 8192
"""Bytes uvicorn allows beyond ``max_header_bytes`` for the request line and separators."""


class QuotaSettings(FlowForgeSettings):
    """What one owner may use: checked when a run starts or a schedule, hook or definition is saved.

    Admins are exempt from the per-owner counts and rates while
    ``quota_admin_exempt`` is true; the definition limits (waits, signal
    timeouts, literal ``for_each`` lists) apply to every definition.
    """

    quota_run_starts_per_minute: int = Field(
        default=60,
        ge=1,
        description=(
            "Most runs one owner may start per minute through the API, hooks and events "
            "(429 with `Retry-After` past it; counted in PostgreSQL, shared by every API process)."
        ),
    )
    quota_runs_in_flight: int = Field(
        default=100,
        ge=1,
        description=(
            "Most runs of one owner running or paused at once, sub-workflows not counted "
            "(429 with `Retry-After` past it; counted by Temporal visibility)."
        ),
    )
    quota_min_schedule_interval: float = Field(
        default=60.0,
        ge=1,
        description=(
            "Seconds: the shortest schedule interval, and the shortest gap between the "
            "next fire times of a schedule's cron expression."
        ),
    )
    quota_max_wait: float = Field(
        default=30 * 86_400.0,
        gt=0,
        description=(
            "Seconds: the longest `duration` of a `wait` node, and how far ahead its `until` "
            "may be, checked when a definition is saved."
        ),
    )
    quota_max_signal_timeout: float = Field(
        default=30 * 86_400.0,
        gt=0,
        description="Seconds: the longest `timeout` of a `wait_for_signal` node.",
    )
    quota_schedules: int = Field(default=50, ge=0, description="Most schedules one owner may have.")
    quota_hooks: int = Field(
        default=50, ge=0, description="Most inbound webhooks one owner may have."
    )
    quota_admin_exempt: bool = Field(
        default=True,
        description=(
            "Admins' runs, schedules and hooks are not counted against the per-owner quotas "
            "(false: admins have the same quotas as everyone)."
        ),
    )


class NatsSettings(FlowForgeSettings):
    """Event triggers from NATS JetStream and run lifecycle events out: both off by default."""

    nats_url: str = Field(
        default="",
        description=(
            "NATS server (`nats://host:4222`) whose JetStream subjects start runs of workflows "
            "with an `event` trigger that names a `subject`. Empty: off, nothing connects."
        ),
    )
    nats_triggers: bool = Field(
        default=True,
        description=(
            "With `FLOWFORGE_NATS_URL`, consume the stream for event triggers (false: the "
            "server only receives lifecycle events)."
        ),
    )
    nats_stream: str = Field(
        default="FLOWFORGE_EVENTS",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The JetStream stream the triggers read; created if missing.",
    )
    nats_subjects: CommaList = Field(
        default=["flowforge.events.>"],
        min_length=1,
        description=(
            "The subjects of the stream when the API creates it; a trigger's `subject` must "
            "fall under one of them."
        ),
    )
    nats_consumer: str = Field(
        default="flowforge-triggers",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description=(
            "The durable consumer the API processes share: each message reaches one of them."
        ),
    )
    nats_batch: int = Field(
        default=16,
        ge=1,
        le=1000,
        description="Messages one API process fetches, and starts runs for, at once.",
    )
    nats_max_deliveries: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Deliveries of a message whose runs fail to start before it goes to the "
            "dead-letter subject (and is acknowledged)."
        ),
    )
    nats_dead_letter_subject: str = Field(
        default="flowforge.dead_letter",
        min_length=1,
        description=(
            "Where a message goes after `FLOWFORGE_NATS_MAX_DELIVERIES` failed starts, with "
            "`Flowforge-Error` and `Flowforge-Subject` headers. Keep it outside the stream."
        ),
    )
    nats_ack_wait: float = Field(
        default=30.0,
        gt=0,
        description="Seconds JetStream waits for a message's acknowledgement before redelivery.",
    )
    nats_retry_delay: float = Field(
        default=1.0,
        ge=0,
        description=(
            "Seconds before a failed message is delivered again; doubled on every delivery."
        ),
    )
    nats_retry_max_delay: float = Field(
        default=60.0,
        ge=0,
        description="The most seconds between two deliveries of a failed message.",
    )


class RunEventsOutSettings(FlowForgeSettings):
    """Run lifecycle events sent to a NATS subject or a signed webhook: off by default."""

    run_events_nats_subject: str = Field(
        default="",
        pattern=r"^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*)?$",
        description=(
            "Publish run lifecycle events on `<subject>.<event>` (`started`, `succeeded`, "
            "`failed`, `suspended`, ...) of the NATS server at `FLOWFORGE_NATS_URL`. "
            "Empty: not sent there."
        ),
    )
    run_events_webhook_url: str = Field(
        default="",
        description=(
            "POST run lifecycle events to this URL, signed like `webhook` nodes' calls with "
            "`FLOWFORGE_RUN_EVENTS_WEBHOOK_SECRET`. Empty: not sent there."
        ),
    )
    run_events_webhook_secret: str = Field(
        default="",
        description="The key of the lifecycle webhook's `X-Signature`; required with its URL.",
    )
    run_events_webhook_allow: CommaList = Field(
        default=[],
        description=(
            "Private, loopback or link-local addresses the lifecycle webhook may reach "
            "(CIDRs, addresses or host names, as `FLOWFORGE_EGRESS_ALLOW`); others are refused."
        ),
    )
    run_events_webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds one lifecycle webhook call may take."
    )
    run_events_out_interval: float = Field(
        default=2.0,
        gt=0,
        description="Seconds between two rounds of the lifecycle events poller.",
    )
    run_events_out_lookback: float = Field(
        default=30.0,
        ge=0,
        description=(
            "Seconds before the previous round (at start: before now) each round looks back, "
            "so that visibility's lag loses no event; repeats are dropped by event id."
        ),
    )
    run_events_out_max_runs: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="Runs one list of a lifecycle round reads at most.",
    )
    run_events_out_attempts: int = Field(
        default=10,
        ge=1,
        description="Sends of one lifecycle event, one a round, before it is dropped (logged).",
    )

    @model_validator(mode="after")
    def _sink_complete(self) -> RunEventsOutSettings:
        if self.run_events_webhook_url and not self.run_events_webhook_secret:
            raise ValueError(
                "FLOWFORGE_RUN_EVENTS_WEBHOOK_URL needs FLOWFORGE_RUN_EVENTS_WEBHOOK_SECRET: "
                "receivers check the signature with it"
            )
        if self.run_events_webhook_url and not self.run_events_webhook_url.startswith(
            ("http://", "https://")
        ):
            raise ValueError("FLOWFORGE_RUN_EVENTS_WEBHOOK_URL must be an http(s) URL")
        return self


class Settings(
    CommonSettings,
    FirstAdminSettings,
    TemporalUiSettings,
    HeaderLimitSettings,
    QuotaSettings,
    NatsSettings,
    RunEventsOutSettings,
):
    """The API's settings (``uvicorn app.main:app``): the common ones and those below."""

    jwt_secret: str = Field(
        default="",
        description=(
            "HMAC key of access tokens, 32+ characters. Empty in dev/test: a random key kept "
            "in `<data_dir>/jwt_secret` (mode 0600), so every API process of one checkout "
            "agrees. Required in prod."
        ),
    )
    jwt_algorithm: Literal["HS256", "HS384", "HS512"] = Field(
        default="HS256", description="`HS256`, `HS384` or `HS512`."
    )
    access_token_minutes: int = Field(
        default=60, ge=1, le=60 * 24 * 30, description="Lifetime of an access token."
    )

    # Login throttling (per username and per client address, shared through PostgreSQL).
    login_free_attempts: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed logins of one username (known or not) before each further one locks it "
            "for a delay (429 with `Retry-After`). A successful login starts it over."
        ),
    )
    login_address_free_attempts: int = Field(
        default=50,
        ge=1,
        description=(
            "Failed logins from one client address, whatever the usernames, before each "
            "further one locks the address; higher than `FLOWFORGE_LOGIN_FREE_ATTEMPTS`, "
            "since many users may share one address."
        ),
    )
    login_delay_seconds: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Seconds the first failure past the free ones locks for; each next failure doubles it."
        ),
    )
    login_max_delay_seconds: float = Field(
        default=900.0, gt=0, description="The longest a failed login locks for, in seconds."
    )
    login_forget_after_hours: float = Field(
        default=24.0,
        gt=0,
        description="A username or address with no login attempt for this long starts over.",
    )

    # Self-registration (POST /auth/register), off unless turned on.
    registration_enabled: bool = Field(
        default=False,
        description=(
            "Anyone may create an account with `POST /auth/register` (false: only admins "
            "create users, and the route answers 403)."
        ),
    )
    registration_role: Literal["editor", "viewer"] = Field(
        default="editor",
        description="The role a self-registered user gets (never admin).",
    )
    registration_free_per_address: int = Field(
        default=5,
        ge=1,
        description=(
            "Accounts one client address may register within "
            "`FLOWFORGE_LOGIN_FORGET_AFTER_HOURS` before each further one waits a growing "
            "delay (429 with `Retry-After`), as failed logins do."
        ),
    )

    max_request_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body (413 past it)."
    )
    max_json_depth: int = Field(
        default=64,
        ge=2,
        le=400,
        description=(
            "Deepest nesting of arrays and objects in a JSON request body, webhook bodies "
            "included (400 past it)."
        ),
    )
    max_definition_bytes: int = Field(
        default=262_144, ge=1024, description="Largest workflow definition, as JSON."
    )
    max_nodes: int = Field(default=500, ge=1, description="Most nodes in one definition.")
    run: Annotated[RunOptions, FlatEnv(RUN_LIMIT_VARIABLES)] = Field(
        default_factory=RunOptions,
        description="The limits every run is started with (fixed for its whole life).",
    )
    page_size_default: int = Field(
        default=50, ge=1, description="Items in a list page when the request sets no `limit`."
    )
    page_size_max: int = Field(
        default=200, ge=1, description="Largest `limit` a list request may ask for."
    )

    # The API's dependencies: short timeouts turn an unreachable one into a quick 503.
    temporal_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds to wait for Temporal at first use before answering 503.",
    )
    temporal_rpc_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds for one Temporal call (start, describe, signal...).",
    )
    status_query_timeout: float = Field(
        default=3.0,
        gt=0,
        description=(
            "Seconds a run's worker has to answer its status query; past it, run details "
            "come from Temporal alone (no worker is polling)."
        ),
    )

    cancel_grace_seconds: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds `POST /runs/{id}/cancel` waits for the run to end; a run whose workflow "
            "task is still failing then (so it can never act on the cancel) is terminated, "
            "with the reason in its history."
        ),
    )

    # Triggers (schedules, inbound webhooks, events) and run insights (metrics, live events).
    public_url: str = Field(
        default="",
        description=(
            "The API's base URL as callers outside reach it, for the `url` of inbound "
            "webhooks; empty: the base URL of the request that created the hook."
        ),
    )
    hook_max_body_bytes: int = Field(
        default=262_144,
        ge=1024,
        description="Largest body an inbound webhook accepts (413 past it).",
    )
    hook_max_clock_skew: float = Field(
        default=300.0,
        gt=0,
        description=(
            "Seconds an inbound webhook's `X-Timestamp` may differ from the API's clock "
            "before the call is refused as a replay."
        ),
    )
    metrics_token: str = Field(
        default="",
        description="If set, `GET /metrics` answers only with `Authorization: Bearer` "
        "and this token (401 otherwise); empty: the endpoint is open. Its series carry no "
        "tenant identifiers either way.",
    )
    metrics_max_runs: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Workflow metrics read at most this many of the newest runs.",
    )
    failures_max_runs: int = Field(
        default=1000,
        ge=1,
        le=10_000,
        description="`GET /failures` looks at most at this many of the newest failed runs.",
    )
    redrive_max_runs: int = Field(
        default=100,
        ge=1,
        le=1000,
        description="Most runs one `POST /runs/redrive` restarts; more is a 422.",
    )
    redrive_concurrency: int = Field(
        default=4,
        ge=1,
        le=64,
        description="Runs a redrive (and the failures inbox) reads and restarts at once.",
    )
    redrive_wait_seconds: float = Field(
        default=20.0,
        ge=0,
        le=300,
        description=(
            "Seconds `POST /runs/redrive` waits for its batch to finish before answering "
            "`running` (follow it with `GET /runs/redrive/{batch_id}`)."
        ),
    )
    redrive_run_timeout: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds one run of a redrive batch may take to restart (one attempt).",
    )
    redrive_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description=(
            "Attempts at restarting one run of a redrive batch while no worker answers "
            "for its state (other refusals are not retried)."
        ),
    )
    api_task_queue: str = Field(
        default="",
        max_length=200,
        description=(
            "Task queue of the API's own Temporal worker (redrive batches); every API "
            "replica polls it. Empty: `<FLOWFORGE_TASK_QUEUE>-api`."
        ),
    )
    test_run_retention_seconds: int = Field(
        default=86_400,
        ge=60,
        description=(
            "Test runs (`POST /workflows/test`) older than this are no longer listed or "
            "readable, and their index rows are deleted at the owner's next test run."
        ),
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=1000,
        description=(
            "PostgreSQL connections each API process keeps open; when all are busy up to "
            "10 more are opened, each closed again once returned (a new server process "
            "per request past the pool)."
        ),
    )
    run_wait_max_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description=(
            "Most seconds a request may wait for a run's end with `?wait=` "
            "(`POST /workflows/{id}/runs`, `GET /runs/{id}/output`); a longer wait is a 422."
        ),
    )
    test_run_wait_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description=(
            "Most seconds `POST /workflows/test?wait=true` waits for the test run to end "
            "before it answers with the run as it is."
        ),
    )
    run_events_poll_interval: float = Field(
        default=0.5,
        gt=0,
        description=(
            "Seconds between two status queries of a run whose events a client follows "
            "(`GET /runs/{id}/events`)."
        ),
    )
    closed_run_snapshot_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        description=(
            "Bytes (as JSON) of ended runs' status the API keeps, so reading an ended run "
            "again asks no worker to replay its history; 0 keeps none."
        ),
    )
    run_events_max_seconds: float = Field(
        default=300.0,
        gt=0,
        description=(
            "An event stream ends after this long even if the run goes on; clients "
            "reconnect with `Last-Event-ID`."
        ),
    )

    events_poll_interval: float = Field(
        default=1.0,
        gt=0,
        description=(
            "Seconds between two rounds of the one poller behind `GET /events/stream` and "
            "`WS /ws` (it runs only while a client listens)."
        ),
    )
    events_max_runs: int = Field(
        default=500,
        ge=1,
        le=10_000,
        description="Open runs the cross-run event poller follows at most (the newest).",
    )
    events_queue_size: int = Field(
        default=1000,
        ge=10,
        description=(
            "Events held for one cross-run stream client; a client that falls this far "
            "behind is disconnected (it reconnects with `Last-Event-ID`)."
        ),
    )
    events_replay: int = Field(
        default=2000,
        ge=0,
        description="Newest cross-run events kept for clients that reconnect with `Last-Event-ID`.",
    )
    ws_auth_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds a `WS /ws` client has to send its token before it is disconnected.",
    )

    @property
    def api_queue(self) -> str:
        """The task queue the API's own worker polls (``api_task_queue`` or its default)."""
        return self.api_task_queue or f"{self.task_queue}-api"

    @model_validator(mode="after")
    def _refuse_weak_secrets_outside_dev(self) -> Settings:
        if self.run_events_nats_subject and not self.nats_url:
            raise ValueError(
                "FLOWFORGE_RUN_EVENTS_NATS_SUBJECT needs FLOWFORGE_NATS_URL: the server to "
                "publish on"
            )
        if self.environment == "prod" and len(self.jwt_secret) < 32:
            raise ValueError(
                "FLOWFORGE_JWT_SECRET must be set to at least 32 characters outside dev"
            )
        if self.environment == "prod" and not self.secrets_key:
            raise ValueError("FLOWFORGE_SECRETS_KEY must be set outside dev. " + KEY_HELP)
        if self.environment == "prod" and not self.run_signing_key:
            raise ValueError("FLOWFORGE_RUN_SIGNING_KEY must be set outside dev. " + RUN_KEY_HELP)
        return self


@lru_cache
def get_settings() -> Settings:
    """The process's settings, read from the environment once and then cached."""
    return Settings()
