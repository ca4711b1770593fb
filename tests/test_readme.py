"""The README's configuration table documents every setting a process reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic_settings import BaseSettings

from app.settings import Settings
from tests.support.settings import env_names
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast

README = (Path(__file__).parents[1] / "README.md").read_text()


@pytest.mark.parametrize("settings", [Settings, WorkerSettings], ids=lambda s: s.__name__)
def test_every_setting_is_in_the_readme(settings: type[BaseSettings]) -> None:
    missing = sorted(name for name in env_names(settings) if f"`{name}`" not in README)
    assert not missing, f"document these in README.md's configuration table: {missing}"
