"""The README's configuration table documents every setting a process reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from app.cli.settings import CliSettings
from app.devstack.settings import DevSettings
from app.settings import Settings
from interpreter.settings import CommonSettings, variables
from worker.settings import WorkerSettings

README = (Path(__file__).parents[1] / "README.md").read_text()
PROCESSES = [CommonSettings, Settings, WorkerSettings, DevSettings, CliSettings]


@pytest.mark.parametrize("settings", PROCESSES, ids=lambda s: s.__name__)
def test_every_setting_is_in_the_readme(settings: type[BaseSettings]) -> None:
    missing = sorted(name for name in variables(settings) if f"`{name}`" not in README)
    assert not missing, f"document these in README.md's configuration table: {missing}"
