"""Where the token-signing key comes from in dev, test and prod."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from app.core.jwt_secret import SECRET_FILE, resolve_jwt_secret
from app.settings import Settings

pytestmark = pytest.mark.fast

SECRETS_KEY = "A" * 43 + "="  # prod needs one; its value does not matter here


def test_configured_secret_is_used_as_is(tmp_path: Path) -> None:
    secret = "s" * 40
    settings = Settings(
        environment="prod",
        jwt_secret=secret,
        secrets_key=SECRETS_KEY,
        run_signing_key=SECRETS_KEY,
        data_dir=str(tmp_path),
    )
    assert resolve_jwt_secret(settings) == secret
    assert not (tmp_path / SECRET_FILE).exists()


def test_dev_without_a_secret_persists_one_every_process_shares(tmp_path: Path) -> None:
    settings = Settings(environment="dev", jwt_secret="", data_dir=str(tmp_path / "data"))
    first = resolve_jwt_secret(settings)
    assert len(first) == 64
    assert resolve_jwt_secret(settings) == first
    path = tmp_path / "data" / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [SECRET_FILE]


def test_prod_refuses_to_run_without_a_secret(tmp_path: Path) -> None:
    settings = Settings(environment="dev", jwt_secret="", data_dir=str(tmp_path))
    with pytest.raises(ValueError, match="FLOWFORGE_JWT_SECRET"):
        resolve_jwt_secret(settings.model_copy(update={"environment": "prod"}))
