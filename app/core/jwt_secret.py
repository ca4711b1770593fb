"""Where the API's token-signing key comes from."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

from app.settings import Settings

SECRET_FILE = "jwt_secret"


def resolve_jwt_secret(settings: Settings) -> str:
    """The configured secret, else (dev/test only) the one persisted under ``data_dir``.

    Every API process of one checkout must sign with the same key, or a token
    from one worker fails on another; a random key per process would not do,
    so the first process writes one (mode 0600) and the others read it.

    Raises:
        ValueError: no secret is configured in prod (Settings already refuses
            that; this guards any caller that bypasses it).
    """
    if settings.jwt_secret:
        return settings.jwt_secret
    if settings.environment == "prod":
        raise ValueError("FLOWFORGE_JWT_SECRET must be set outside dev")
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.exists():
        _create(path)
    return path.read_text().strip()


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, draft = tempfile.mkstemp(dir=path.parent, prefix=".jwt_secret.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
        # link() never replaces: when workers start together, the first one wins
        # and the file is complete the moment it appears.
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(draft)
