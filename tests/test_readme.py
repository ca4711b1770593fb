"""The README's configuration table documents every setting a process reads, as declared."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from app.cli.settings import CliSettings
from app.devstack.settings import DevSettings
from app.settings import Settings
from docs.settings_table import GROUPS, with_table
from interpreter.contract.run import RunOptions
from interpreter.settings import CommonSettings, declarations, variables
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast

README = (Path(__file__).parents[1] / "README.md").read_text()
PROCESSES = [CommonSettings, Settings, WorkerSettings, DevSettings, CliSettings]


@pytest.mark.parametrize("settings", PROCESSES, ids=lambda s: s.__name__)
def test_every_setting_is_in_the_readme(settings: type[BaseSettings]) -> None:
    missing = sorted(name for name in variables(settings) if f"`{name}`" not in README)
    assert not missing, f"document these in README.md's configuration table: {missing}"


def test_the_readme_table_is_the_one_the_declarations_generate() -> None:
    assert with_table(README) == README, "README.md's settings table is stale: make settings-doc"


def test_every_process_has_a_table() -> None:
    assert {group.settings for group in GROUPS} == set(PROCESSES)


@pytest.mark.parametrize("settings", PROCESSES, ids=lambda s: s.__name__)
def test_every_setting_says_what_it_is(settings: type[BaseSettings]) -> None:
    # declarations() refuses a setting without a description.
    assert all(declared.description.strip() for declared in declarations(settings))


def test_the_run_limits_are_documented_as_run_options_declares_them() -> None:
    run = [d for d in declarations(Settings) if d.field.startswith("run.")]
    assert len(run) == len(RunOptions.model_fields) - 1  # all but activity_task_queue
    for declared in run:
        field = RunOptions.model_fields[declared.field.removeprefix("run.")]
        assert (declared.default, declared.description) == (field.default, field.description)
