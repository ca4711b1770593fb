"""docker-compose.yml, checked without Docker (it cannot run on this machine).

The checks are those that break a deployment silently: a variable no Settings
reads, a mounted file that does not exist, search attributes that drift from
the ones runs are started with, a worker that cannot be scaled.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic_settings import BaseSettings

from app.settings import REQUEST_LINE_ROOM, HeaderLimitSettings, Settings
from interpreter.contract import search_attributes
from interpreter.settings import variables
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast

ROOT = Path(__file__).resolve().parents[1]
SETUP_SCRIPT = ROOT / "temporal-config/register-search-attributes.sh"


@pytest.fixture(scope="module")
def services() -> dict[str, Any]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return dict(compose["services"])


def host_ports(service: dict[str, Any]) -> set[str]:
    return {str(port).rsplit(":", 1)[0].rsplit(":", 1)[-1] for port in service.get("ports", [])}


def test_services_and_published_ports(services: dict[str, Any]) -> None:
    assert set(services) == {
        "postgres",
        "temporal",
        "temporal-setup",
        "temporal-ui",
        "api",
        "worker",
    }
    assert services["temporal-ui"]["ports"] == ["${FLOWFORGE_TEMPORAL_BIND:-127.0.0.1}:8233:8080"]
    assert host_ports(services["api"]) == {"8000"}
    assert services["temporal-ui"]["environment"]["TEMPORAL_ADDRESS"] == "temporal:7233"


def test_worker_scales(services: dict[str, Any]) -> None:
    worker = services["worker"]
    assert "ports" not in worker
    assert "container_name" not in worker
    assert worker["command"] == ["python", "-m", "worker"]


def test_temporal_persists_and_searches_on_postgres(services: dict[str, Any]) -> None:
    temporal = services["temporal"]
    env = temporal["environment"]
    assert temporal["image"].startswith("temporalio/auto-setup:")
    assert env["DB"] == "postgres12"  # SQL visibility on 12+: advanced visibility
    assert env["POSTGRES_SEEDS"] == "postgres"
    assert env["DBNAME"] != "flowforge"
    assert env["VISIBILITY_DBNAME"] != "flowforge"


def test_temporal_is_sized_for_a_deployment(services: dict[str, Any]) -> None:
    shards = int(services["temporal"]["environment"]["NUM_HISTORY_SHARDS"])
    assert shards >= 512
    assert shards & (shards - 1) == 0, "a power of two spreads runs evenly"
    worker = services["worker"]["environment"]
    defaults = WorkerSettings.model_fields
    for name, field in (
        ("FLOWFORGE_WORKFLOW_TASK_POLLERS", "workflow_task_pollers"),
        ("FLOWFORGE_ACTIVITY_TASK_POLLERS", "activity_task_pollers"),
    ):
        # Each of a task queue's 4 partitions needs an open poll at all times.
        assert int(worker[name]) >= 4, name
        assert int(worker[name]) > defaults[field].default, name


def test_the_dynamic_config_lifts_the_queue_throttles() -> None:
    config = yaml.safe_load((ROOT / "temporal-config/dynamicconfig/flowforge.yaml").read_text())
    for queue in ("transfer", "timer", "visibility", "outbound"):
        assert config[f"history.{queue}ProcessorMaxPollRPS"][0]["value"] >= 1000, queue


@pytest.mark.parametrize(
    ("service", "settings"),
    [("api", Settings), ("worker", WorkerSettings), ("temporal-setup", Settings)],
)
def test_env_names_are_read_by_settings(
    services: dict[str, Any], service: str, settings: type[BaseSettings]
) -> None:
    unknown = set(services[service]["environment"]) - variables(settings)
    assert not unknown, f"{service} sets variables its Settings never read: {sorted(unknown)}"


def test_api_migrates_then_serves(services: dict[str, Any]) -> None:
    script = " ".join(services["api"]["command"])
    assert script.index("flowforge db upgrade") < script.index("uvicorn app.main:app")
    assert services["api"]["environment"]["FLOWFORGE_ENVIRONMENT"] == "prod"
    assert services["api"]["depends_on"]["temporal-setup"] == {
        "condition": "service_completed_successfully"
    }


def test_uvicorn_caps_the_request_head_above_the_header_limit(services: dict[str, Any]) -> None:
    script = " ".join(services["api"]["command"])
    found = re.search(r"--h11-max-incomplete-event-size (\d+)", script)
    assert found is not None
    default = HeaderLimitSettings.model_fields["max_header_bytes"].default
    assert int(found.group(1)) == default + REQUEST_LINE_ROOM


def test_mounted_temporal_config_exists(services: dict[str, Any]) -> None:
    mounts = [m for s in services.values() for m in s.get("volumes", []) if m.startswith("./")]
    assert mounts, "temporal-config is mounted somewhere"
    for mount in mounts:
        assert (ROOT / mount.split(":", 1)[0]).exists(), mount
    dynamic = services["temporal"]["environment"]["DYNAMIC_CONFIG_FILE_PATH"]
    assert (ROOT / "temporal-config/dynamicconfig" / Path(dynamic).name).is_file()
    command = services["temporal-setup"]["command"]
    assert command[-1] == "/etc/flowforge/temporal-config/register-search-attributes.sh"


def test_setup_registers_exactly_the_interpreters_search_attributes() -> None:
    registered = dict(re.findall(r"^register (\w+) (\w+)$", SETUP_SCRIPT.read_text(), re.M))
    # dev_server_flags() is ["--search-attribute", "Name=Type", ...] built from ALL.
    expected = dict(flag.split("=") for flag in search_attributes.dev_server_flags()[1::2])
    assert registered == expected
    assert set(registered) == {key.name for key in search_attributes.ALL}


def test_api_and_workers_share_the_store_and_its_key(services: dict[str, Any]) -> None:
    api, worker = services["api"]["environment"], services["worker"]["environment"]
    for name in ("DATABASE_URL", "FLOWFORGE_SECRETS_KEY", "FLOWFORGE_ENVIRONMENT"):
        assert api[name] == worker[name], name
    assert worker["FLOWFORGE_ENVIRONMENT"] == "prod"
    assert services["worker"]["depends_on"]["api"] == {"condition": "service_healthy"}
    assert "ports" not in services["worker"]
