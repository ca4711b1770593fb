"""What every FlowForge process reads, and how a setting is declared once and documented.

Each process has one settings class: the API's (``app.settings``), the
worker's (``worker.settings``), the dev supervisor's (``app.devstack.settings``)
and the CLI's (``app.cli.settings``). The first three extend
:class:`CommonSettings`; all of them extend :class:`FlowForgeSettings`, which
reads ``FLOWFORGE_*`` variables (a field's ``validation_alias`` names any other
variable, e.g. ``DATABASE_URL``).

A setting is declared once, as a field whose ``description`` is its
documentation: :func:`declarations` lists every variable a class reads, and the
README's configuration table is generated from it. A model that the settings
hand on as a whole (the API's run limits are a ``RunOptions``) is one field
marked :class:`FlatEnv`: its fields keep their own declarations (type, bounds,
default, description) and are read from one variable each.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from temporalio.converter import DataConverter

from interpreter.contract.client import data_converter
from interpreter.contract.codec import EncryptionCodec
from interpreter.run_proof import RunKeys, parse_signing_key, resolve_run_keys
from interpreter.secret_box import KEY_HELP, parse_key, shared_key_file

ENV_PREFIX = "FLOWFORGE_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


def split_commas(value: object) -> object:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``; a list (set in code) is left as it is."""
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def split_levels(value: object) -> object:
    """``"temporalio=WARNING, app=debug"`` -> ``{"temporalio": "WARNING", "app": "DEBUG"}``.

    Raises:
        ValueError: a pair has no ``=`` or no logger name.
    """
    if not isinstance(value, str):
        return value
    levels: dict[str, str] = {}
    for pair in (item.strip() for item in value.split(",") if item.strip()):
        name, sep, level = pair.partition("=")
        if not sep or not name.strip():
            raise ValueError(f"{pair!r} is not `logger=LEVEL`")
        levels[name.strip()] = level.strip().upper()
    return levels


CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_commas)]
"""A setting read from the environment as a comma-separated list."""

PAYLOAD_KEY_FILE = "payload_key"
"""Where, under the data directory, a dev or test payload key is kept when none is configured."""
PAYLOAD_KEY_HELP = KEY_HELP.replace("FLOWFORGE_SECRETS_KEY", "FLOWFORGE_PAYLOAD_KEY")


@dataclass(frozen=True)
class FlatEnv:
    """Marks a field of a model type whose fields are read from flat variables.

    ``run: Annotated[RunOptions, FlatEnv({"for_each_max_items": "FLOWFORGE_FOR_EACH_MAX_ITEMS"})]``
    reads ``run.for_each_max_items`` from that variable; fields not named keep
    their defaults and are no settings.

    Attributes:
        names: The variable of each field of the model that is a setting.
    """

    names: Mapping[str, str]


def _flat_env(field: FieldInfo) -> FlatEnv | None:
    return next((m for m in field.metadata if isinstance(m, FlatEnv)), None)


class _FlatEnvSource(PydanticBaseSettingsSource):
    """Values of :class:`FlatEnv` fields, gathered from their variables."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        # Unused: __call__ reads whole models at once.
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        sensitive = bool(self.config.get("case_sensitive"))
        environ = os.environ if sensitive else {k.lower(): v for k, v in os.environ.items()}
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            flat = _flat_env(field)
            if flat is None:
                continue
            found = {}
            for key, variable in flat.names.items():
                value = environ.get(variable if sensitive else variable.lower())
                if value is not None:
                    found[key] = value
            if found:
                values[name] = found
        return values


class FlowForgeSettings(BaseSettings):
    """The base of every process's settings: ``FLOWFORGE_*`` variables, flat run limits."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The default sources plus :class:`FlatEnv` fields' variables, after the environment's.

        Returns:
            The sources, the first one winning.
        """
        flat = _FlatEnvSource(settings_cls)
        return init_settings, env_settings, flat, dotenv_settings, file_secret_settings


class CommonSettings(FlowForgeSettings):
    """What the API, every worker and the dev supervisor share (see each field's description)."""

    environment: Literal["dev", "test", "prod"] = Field(
        default="dev",
        description=(
            "`dev`, `test` or `prod`. `dev` and `test` make up the keys that are not set "
            "and keep them under `FLOWFORGE_DATA_DIR`; `prod` refuses to start without them."
        ),
    )
    data_dir: str = Field(
        default=".data",
        description=(
            "Where dev and test keep their state: the Temporal dev server's file, the "
            "embedded PostgreSQL and the generated keys, which workers with the same "
            "directory read too."
        ),
    )
    database_url: str = Field(
        default="",
        validation_alias="DATABASE_URL",
        description=(
            "PostgreSQL of definitions, users, secrets, triggers, circuit breakers and "
            "webhook deliveries: `postgresql+asyncpg://user:pass@host:5432/db` (the worker "
            "takes `postgresql://` too). Empty: `flowforge dev` starts an embedded "
            "PostgreSQL; a worker without it records no deliveries, fails nodes that read "
            "secrets and calls without circuit breakers."
        ),
    )
    temporal_address: str = Field(
        default="127.0.0.1:7233",
        validation_alias="TEMPORAL_ADDRESS",
        description="`host:port` of the Temporal frontend.",
    )
    temporal_namespace: str = Field(
        default="default",
        validation_alias="TEMPORAL_NAMESPACE",
        description="The Temporal namespace of every run.",
    )
    task_queue: str = Field(
        default="flowforge",
        description="Task queue of the interpreter: the API starts runs on it, workers poll it.",
    )
    secrets_key: str = Field(
        default="",
        description=(
            "Key of the secrets store (32 bytes, URL-safe base64), the same for the API and "
            "every worker. Empty in dev/test: a random key kept in `<data_dir>/secrets_key`. "
            "Required in prod (by a worker when it has a `DATABASE_URL`)."
        ),
    )
    payload_encryption: bool = Field(
        default=True,
        description=(
            "Encrypt every payload FlowForge writes to Temporal (run inputs, node outputs, "
            "signals, updates, queries, memos, failure messages) with AES-GCM. `false` turns "
            "it off: payloads then reach Temporal's history and Web UI in plaintext (payloads "
            "sealed earlier still open with the keys given)."
        ),
    )
    payload_key: str = Field(
        default="",
        description=(
            "Key of Temporal payloads (32 bytes, URL-safe base64), the same for the API and "
            "every worker. Empty in dev/test: a random key kept in `<data_dir>/payload_key`. "
            "Required in prod while `FLOWFORGE_PAYLOAD_ENCRYPTION` is on."
        ),
    )
    payload_previous_keys: CommaList = Field(
        default_factory=list,
        description=(
            "Comma-separated keys that sealed payloads before `FLOWFORGE_PAYLOAD_KEY` did: "
            "they open old runs' payloads but seal nothing new (key rotation)."
        ),
    )
    run_signing_key: str = Field(
        default="",
        description=(
            "Key (32 bytes, URL-safe base64) the API signs every run it starts with and "
            "workers check before a node acts for the run's owner (secrets, breakers, "
            "delivery records); the same for the API and every worker, never in a history. "
            "Empty in dev/test: a random key kept in `<data_dir>/run_signing_key`. Required "
            "in prod."
        ),
    )
    run_signing_previous_keys: CommaList = Field(
        default_factory=list,
        description=(
            "Comma-separated former `FLOWFORGE_RUN_SIGNING_KEY`s that still verify (never "
            "sign): to rotate, move the current key here and set a new one, and drop it "
            "once the runs it signed have ended."
        ),
    )
    # Every wait on PostgreSQL is bounded: a server that is down or stopped costs
    # an API request a quick 503 and a worker's attempt a retryable failure.
    db_connect_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds to wait for a new PostgreSQL connection: past it the API answers 503 "
            "and a worker's node attempt fails with the retryable `StoreUnavailable`."
        ),
    )
    db_statement_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds one PostgreSQL statement may take (also the server's "
            "`statement_timeout` for the API's and the workers' connections): past it the "
            "API answers 503, a worker's node attempt fails with the retryable "
            "`StoreUnavailable`, and a connection whose server stopped answering is dropped."
        ),
    )
    db_pool_timeout: float = Field(
        default=5.0,
        gt=0,
        description=(
            "Seconds to wait for a free pooled PostgreSQL connection while all are busy, "
            "before the API answers 503 or a worker's attempt fails with `StoreUnavailable`."
        ),
    )
    log_level: LogLevel = Field(
        default="INFO",
        description=(
            "`DEBUG`, `INFO`, `WARNING` or `ERROR`: the least severe JSON log line the "
            "API and the workers write to stderr."
        ),
    )
    log_format: Literal["json", "console"] = Field(
        default="json",
        description=(
            "`json`: one JSON object a line (for log collectors); `console`: short readable "
            "lines, expected failures without a traceback (`flowforge dev` uses it unless set)."
        ),
    )
    log_colour: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="Colour `console` lines: `auto` when stderr is a terminal.",
    )
    log_levels: Annotated[dict[str, LogLevel], NoDecode, BeforeValidator(split_levels)] = Field(
        default_factory=dict,
        description=(
            "Levels of single loggers over `FLOWFORGE_LOG_LEVEL`, as `logger=LEVEL` pairs "
            "separated by commas, e.g. `temporalio=WARNING,app.access=DEBUG`."
        ),
    )
    tracing: bool = Field(
        default=False,
        description=(
            "Trace runs with OpenTelemetry: a trace per run from the API request that starts "
            "it to every node attempt, exported as the standard `OTEL_*` variables say "
            "(`OTEL_TRACES_EXPORTER`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_SERVICE_NAME`...)."
        ),
    )
    tracing_outbound: bool = Field(
        default=True,
        description=(
            "While tracing: `http` and `webhook` nodes send the attempt's `traceparent` "
            "header, so the services they call join the run's trace."
        ),
    )

    @field_validator("secrets_key")
    @classmethod
    def _valid_secrets_key(cls, value: str) -> str:
        if value:
            parse_key(value)  # a bad key stops startup, not the first secret use
        return value

    @field_validator("payload_key", "payload_previous_keys")
    @classmethod
    def _valid_payload_keys(cls, value: str | list[str]) -> str | list[str]:
        for key in [value] if isinstance(value, str) else value:
            if key:
                _payload_key(key)
        return value

    def data_converter(self) -> DataConverter:
        """This process's converter for Temporal: the one place it is built from settings.

        Raises:
            ValueError: encryption is on in prod and ``FLOWFORGE_PAYLOAD_KEY`` is not set.
        """
        return _converter(
            self.payload_encryption,
            self.payload_key,
            tuple(self.payload_previous_keys),
            self.data_dir if self.environment != "prod" else None,
        )

    @field_validator("run_signing_key")
    @classmethod
    def _valid_signing_key(cls, value: str) -> str:
        if value:
            parse_signing_key(value)
        return value

    @field_validator("run_signing_previous_keys")
    @classmethod
    def _valid_previous_keys(cls, value: list[str]) -> list[str]:
        for key in value:
            try:
                parse_signing_key(key)
            except ValueError:
                raise ValueError(
                    "FLOWFORGE_RUN_SIGNING_PREVIOUS_KEYS must list keys of 32 bytes in "
                    "URL-safe base64 (44 characters each), separated by commas"
                ) from None
        return value

    def run_keys(self) -> RunKeys:
        """The run signing keys: the configured ones, else (dev/test) the generated one.

        Raises:
            ValueError: no key is configured in prod.
        """
        return _run_keys(
            self.run_signing_key,
            tuple(self.run_signing_previous_keys),
            self.data_dir,
            self.environment != "prod",
        )


def _payload_key(text: str) -> bytes:
    try:
        return parse_key(text)
    except ValueError:
        raise ValueError(PAYLOAD_KEY_HELP) from None


@lru_cache(maxsize=8)
def _converter(
    enabled: bool, configured: str, previous: tuple[str, ...], data_dir: str | None
) -> DataConverter:
    # Cached: the key file is read once per process, and one converter serves every client.
    old = [_payload_key(key) for key in previous]
    if configured:
        current: bytes | None = _payload_key(configured)
    elif not enabled:
        current = None
    elif data_dir is None:
        raise ValueError(
            "FLOWFORGE_PAYLOAD_KEY must be set outside dev (every API and worker process "
            "the same), or FLOWFORGE_PAYLOAD_ENCRYPTION=false to store payloads in "
            "plaintext. " + PAYLOAD_KEY_HELP
        )
    else:
        made = shared_key_file(
            Path(data_dir) / PAYLOAD_KEY_FILE,
            lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        )
        current = _payload_key(made)
    if not enabled:
        # Off: nothing new is sealed, yet what was sealed before still opens.
        old = [*old, current] if current is not None else old
        current = None
    if current is None and not old:
        return data_converter(None)
    return data_converter(EncryptionCodec(current, old))


@lru_cache(maxsize=8)
def _run_keys(
    configured: str, previous: tuple[str, ...], data_dir: str, allow_generated: bool
) -> RunKeys:
    # Cached: the key file is read once per process, not on every run start.
    return resolve_run_keys(
        configured, previous, data_dir=data_dir, allow_generated=allow_generated
    )


@dataclass(frozen=True)
class Declared:
    """One variable a settings class reads, as the README documents it.

    Attributes:
        variable: The environment variable, e.g. ``FLOWFORGE_TASK_QUEUE``.
        field: Where the value lands, e.g. ``task_queue`` or ``run.for_each_max_items``.
        default: The value when the variable is not set.
        description: What it means (the field's ``description``).
    """

    variable: str
    field: str
    default: Any
    description: str


def _default(field: FieldInfo) -> Any:
    if field.default_factory is not None:
        return field.default_factory()  # type: ignore[call-arg]
    return None if field.default is PydanticUndefined else field.default


def _declared(variable: str, path: str, field: FieldInfo) -> Declared:
    if not field.description:
        raise TypeError(f"setting {path} ({variable}) has no description")
    return Declared(variable, path, _default(field), field.description)


def declarations(settings: type[BaseSettings]) -> list[Declared]:
    """Every variable ``settings`` reads, in declaration order.

    Raises:
        TypeError: a setting has no ``description``, or a :class:`FlatEnv`
            field is not of a model type or names a field that model lacks.
    """
    prefix = settings.model_config.get("env_prefix", "")
    found: list[Declared] = []
    for name, field in settings.model_fields.items():
        flat = _flat_env(field)
        if flat is None:
            alias = field.validation_alias
            variable = alias if isinstance(alias, str) else f"{prefix}{name}".upper()
            found.append(_declared(variable, name, field))
            continue
        model = field.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError(f"FlatEnv field {name} is not of a model type")
        for key, variable in flat.names.items():
            if key not in model.model_fields:
                raise TypeError(f"FlatEnv of {name} names {key}, which {model.__name__} lacks")
            found.append(_declared(variable, f"{name}.{key}", model.model_fields[key]))
    return found


def variables(settings: type[BaseSettings]) -> set[str]:
    """The environment variables ``settings`` reads."""
    return {declared.variable for declared in declarations(settings)}
