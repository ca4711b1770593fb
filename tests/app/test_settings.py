"""Each process's settings: the variables they read and the rules they apply."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.cli.settings import CliSettings
from app.devstack.settings import DevSettings
from app.settings import RUN_LIMIT_VARIABLES, Settings
from interpreter.contract.run import RunOptions
from interpreter.settings import CommonSettings
from worker.settings import WorkerSettings


def test_every_run_limit_is_read_from_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = RunOptions()
    wanted: dict[str, object] = {}
    for field, variable in RUN_LIMIT_VARIABLES.items():
        value = getattr(defaults, field) + 1  # every limit allows one more than its default
        monkeypatch.setenv(variable, str(value))
        wanted[field] = value

    run = Settings().run

    assert {field: getattr(run, field) for field in wanted} == wanted
    assert run.activity_task_queue == defaults.activity_task_queue


def test_run_limit_variables_are_read_in_any_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("flowforge_for_each_max_items", "7")
    assert Settings().run.for_each_max_items == 7


def test_a_run_limit_out_of_bounds_is_refused_naming_its_field(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FLOWFORGE_MAX_SUB_WORKFLOW_DEPTH", "51")
    with pytest.raises(ValidationError, match=r"run\.max_sub_workflow_depth"):
        Settings()
    with pytest.raises(ValidationError, match="less than or equal to 50"):
        RunOptions(max_sub_workflow_depth=51)


def test_the_shared_settings_are_declared_once() -> None:
    for process in (Settings, WorkerSettings, DevSettings):
        assert issubclass(process, CommonSettings)
        for name, field in CommonSettings.model_fields.items():
            assert process.model_fields[name].description == field.description
    assert not set(CliSettings.model_fields) & set(CommonSettings.model_fields)


def test_the_cli_reads_none_of_the_apis_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWFORGE_ENVIRONMENT", "prod")
    monkeypatch.delenv("FLOWFORGE_JWT_SECRET", raising=False)
    monkeypatch.setenv("FLOWFORGE_API_URL", "http://api.example:8000")

    assert CliSettings().api_url == "http://api.example:8000"
    with pytest.raises(ValidationError, match="FLOWFORGE_JWT_SECRET"):
        Settings()


def test_the_dev_stack_and_the_worker_read_the_metrics_port_each_with_its_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLOWFORGE_METRICS_PORT", raising=False)
    assert (DevSettings().worker_metrics_port, WorkerSettings().metrics_port) == (9464, 0)
    monkeypatch.setenv("FLOWFORGE_METRICS_PORT", "9999")
    assert (DevSettings().worker_metrics_port, WorkerSettings().metrics_port) == (9999, 9999)
