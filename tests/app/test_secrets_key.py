"""Where the secrets key comes from: configured (required in prod) or kept under data_dir."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.core.secrets_key import secret_box
from app.settings import Settings
from interpreter.errors import SecretUnreadable
from interpreter.secret_box import KEY_FILE, SecretBox, parse_key, resolve_key
from worker.settings import WorkerSettings

pytestmark = pytest.mark.fast

JWT = "j" * 40


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_prod_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="FLOWFORGE_SECRETS_KEY must be set outside dev"):
        Settings(environment="prod", jwt_secret=JWT, data_dir=str(tmp_path))
    with pytest.raises(ValidationError, match="FLOWFORGE_SECRETS_KEY must be set outside dev"):
        WorkerSettings(environment="prod", DATABASE_URL="postgresql://db/flowforge")
    # A worker without a database reads no secrets, so it needs no key.
    assert WorkerSettings(environment="prod").secrets_key == ""


@pytest.mark.parametrize("bad", ["short", "A" * 44, "not base64 at all!!" * 3])
def test_a_malformed_key_stops_startup_saying_how_to_make_one(bad: str) -> None:
    for make in (lambda: Settings(secrets_key=bad), lambda: WorkerSettings(secrets_key=bad)):
        with pytest.raises(ValidationError, match="32 random bytes in URL-safe base64"):
            make()


def test_a_configured_key_is_used_and_nothing_is_written(tmp_path: Path) -> None:
    key = new_key()
    settings = Settings(
        environment="prod",
        jwt_secret=JWT,
        secrets_key=key,
        run_signing_key=new_key(),
        data_dir=str(tmp_path),
    )

    sealed = secret_box(settings).seal("owner", "name", "value")

    assert SecretBox(parse_key(key)).open("owner", "name", sealed) == "value"
    assert list(tmp_path.iterdir()) == []


def test_dev_keeps_one_key_under_data_dir_for_the_api_and_the_workers(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    api = secret_box(Settings(environment="dev", data_dir=data_dir))
    worker_key = resolve_key("", data_dir=data_dir, allow_generated=True)

    assert SecretBox(worker_key).open("o", "n", api.seal("o", "n", "v")) == "v"
    path = tmp_path / "data" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE]


def test_a_sealed_value_opens_only_for_its_owner_and_name_and_key() -> None:
    box = SecretBox(parse_key(new_key()))
    sealed = box.seal("alice", "token", "v")

    for owner, name, other in (
        ("bob", "token", box),
        ("alice", "other", box),
        ("alice", "token", SecretBox(parse_key(new_key()))),
    ):
        with pytest.raises(SecretUnreadable, match="does not open"):
            other.open(owner, name, sealed)
