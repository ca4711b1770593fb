"""Dev-only secrets that the supervisor generates once and keeps under the data directory.

They make ``make dev`` work with no configuration while staying the same
across restarts, so the admin password printed on the first run keeps working.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_ADMIN = "admin"


@dataclass(frozen=True)
class DevSecret:
    """A secret value and whether this run created it (and so should show it once)."""

    value: str
    generated: bool


def persistent_secret(path: Path, given: str, *, nbytes: int = 18) -> DevSecret:
    """``given`` if set; else the value stored at ``path``; else a new one stored there (0600).

    Raises:
        ValueError: the stored file is empty (remove it to get a new secret).
    """
    if given:
        return DevSecret(given, generated=False)
    if path.exists():
        value = path.read_text().strip()
        if not value:
            raise ValueError(f"{path} is empty: delete it to generate a new secret")
        return DevSecret(value, generated=False)
    value = secrets.token_urlsafe(nbytes)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL + mode at creation: the secret is never readable by others, not even briefly.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value + "\n")
    return DevSecret(value, generated=True)
