"""Secret values at rest: AES-256-GCM under one key that the API and every worker share.

The API seals a value when it is stored; a worker opens it inside the
activity that uses it. A sealed value is bound to its owner and name
(associated data), so a ciphertext copied onto another row does not open.
Layout: ``version byte (1) | 12-byte nonce | ciphertext and tag``.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from interpreter.errors import SecretUnreadable

KEY_FILE = "secrets_key"
"""Where, under the data directory, a dev or test key is kept when none is configured."""

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_BYTES = 32

KEY_HELP = (
    "FLOWFORGE_SECRETS_KEY must be 32 random bytes in URL-safe base64 (44 characters); "
    'make one with: python -c "import base64, os; '
    'print(base64.urlsafe_b64encode(os.urandom(32)).decode())"'
)


def parse_key(text: str) -> bytes:
    """The 32 key bytes written as URL-safe base64 in ``text``.

    Raises:
        ValueError: ``text`` is not 32 bytes of URL-safe base64 (the message says how
            to make a key).
    """
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise ValueError(KEY_HELP) from None
    if len(key) != _KEY_BYTES:
        raise ValueError(KEY_HELP)
    return key


def resolve_key(configured: str, *, data_dir: str, allow_generated: bool) -> bytes:
    """The configured key, else (when ``allow_generated``) the one kept under ``data_dir``.

    The API and the workers of one checkout must use the same key, so the
    first process to need one writes it (mode 0600) and the others read it.

    Raises:
        ValueError: the configured key is malformed, or there is none and a
            generated one is not allowed.
    """
    if configured:
        return parse_key(configured)
    if not allow_generated:
        raise ValueError("FLOWFORGE_SECRETS_KEY must be set outside dev. " + KEY_HELP)
    generated = shared_key_file(
        Path(data_dir) / KEY_FILE,
        lambda: base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode(),
    )
    return parse_key(generated)


def shared_key_file(path: Path, make: Callable[[], str]) -> str:
    """The key kept in ``path``, written (mode 0600) from ``make()`` by whoever needs it first.

    Processes of one checkout (API processes, workers) must agree on a dev key,
    so a random key per process will not do.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, draft = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(make())
            # link() never replaces: when processes start together, the first
            # one wins and the file is complete the moment it appears.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(draft)
    return path.read_text().strip()


class SecretBox:
    """Seals and opens secret values with one key.

    Args:
        key: 32 bytes, e.g. from :func:`resolve_key`.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, owner: str, name: str, value: str) -> bytes:
        """``value`` encrypted and bound to its owner and name, so it opens nowhere else."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, value.encode(), _bound_to(owner, name))
        return _VERSION + nonce + sealed

    def open(self, owner: str, name: str, sealed: bytes) -> str:
        """The value sealed for ``owner``'s secret ``name``.

        Raises:
            SecretUnreadable: another key sealed it, or it was altered or moved.
        """
        version, nonce, body = sealed[:1], sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        if version != _VERSION:
            raise SecretUnreadable(f"secret {name!r} has an unknown format")
        try:
            return self._aead.decrypt(nonce, body, _bound_to(owner, name)).decode()
        except InvalidTag:
            raise SecretUnreadable(
                f"secret {name!r} does not open with this FLOWFORGE_SECRETS_KEY: "
                "give every API and worker process the same key"
            ) from None


def _bound_to(owner: str, name: str) -> bytes:
    return f"{owner}\0{name}".encode()
