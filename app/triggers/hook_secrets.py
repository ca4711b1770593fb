"""Inbound webhook secrets at rest, sealed with the secrets store's key.

The API must read a hook's secret back to check signatures, so it is sealed
(AES-GCM, bound to the hook id) rather than hashed.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from app.core.secrets_key import secret_box
from app.settings import Settings

_SECRET_PREFIX = "whsec_"
_BOUND_NAME = "webhook_hook_secret"


def new_hook_secret() -> str:
    """A fresh signing secret: the prefix and 256 random bits."""
    return _SECRET_PREFIX + secrets.token_urlsafe(32)


def seal_hook_secret(settings: Settings, hook_id: uuid.UUID, secret: str) -> str:
    """How hook ``hook_id``'s ``secret`` is stored: sealed, bound to the hook id, in base64."""
    sealed = secret_box(settings).seal(str(hook_id), _BOUND_NAME, secret)
    return base64.b64encode(sealed).decode("ascii")


def open_hook_secret(settings: Settings, hook_id: uuid.UUID, stored: str) -> str:
    """The hook's secret.

    Raises:
        SecretUnreadable: another key sealed it (FLOWFORGE_SECRETS_KEY changed).
    """
    return secret_box(settings).open(str(hook_id), _BOUND_NAME, base64.b64decode(stored))
