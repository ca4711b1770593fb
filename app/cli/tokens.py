"""Where ``flowforge login`` keeps tokens: one per API URL, in a file only the user can read."""

from __future__ import annotations

import json
import os
from pathlib import Path

from app.cli.settings import CliSettings


def token_file(settings: CliSettings) -> Path:
    """``credentials.json`` under FLOWFORGE_CLI_CONFIG_DIR (default ~/.config/flowforge)."""
    return Path(settings.cli_config_dir).expanduser() / "credentials.json"


def _read(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        stored = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    tokens = stored.get("tokens") if isinstance(stored, dict) else None
    return {str(k): str(v) for k, v in tokens.items()} if isinstance(tokens, dict) else {}


def load_token(settings: CliSettings) -> str:
    """FLOWFORGE_TOKEN if set, else the token stored for FLOWFORGE_API_URL, else ``""``."""
    return settings.token or _read(token_file(settings)).get(settings.api_url.rstrip("/"), "")


def save_token(settings: CliSettings, token: str) -> Path:
    """Store ``token`` for FLOWFORGE_API_URL (0600 file in a 0700 directory); return the path."""
    path = token_file(settings)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tokens = _read(path)
    tokens[settings.api_url.rstrip("/")] = token
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        json.dump({"tokens": tokens}, file, indent=2)
    temporary.replace(path)
    return path
