"""Where the API's token-signing key comes from."""

from __future__ import annotations

import secrets
from pathlib import Path

from app.settings import Settings
from interpreter.secret_box import shared_key_file

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
    return shared_key_file(Path(settings.data_dir) / SECRET_FILE, lambda: secrets.token_hex(32))
