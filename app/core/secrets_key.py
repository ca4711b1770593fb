"""The API's secrets box: sealed with the key the workers open with."""

from __future__ import annotations

from functools import lru_cache

from app.settings import Settings
from interpreter.secret_box import SecretBox, resolve_key


def secret_box(settings: Settings) -> SecretBox:
    """The box of ``FLOWFORGE_SECRETS_KEY``, else (dev/test only) of ``<data_dir>/secrets_key``.

    Raises:
        ValueError: no key is configured in prod (Settings already refuses
            that; this guards any caller that bypasses it).
    """
    return _box(settings.secrets_key, settings.data_dir, settings.environment != "prod")


@lru_cache(maxsize=8)
def _box(configured: str, data_dir: str, allow_generated: bool) -> SecretBox:
    # Cached: the key file is read once per process, not on every request.
    return SecretBox(resolve_key(configured, data_dir=data_dir, allow_generated=allow_generated))
