"""Passwords (argon2, and the rules new ones follow), access tokens (JWT) and API keys.

Hashing or checking a password takes about 0.1 s of CPU and 64 MiB by design,
so the API does it on a few low-priority threads of its own
(:func:`hash_password_off_loop`, :func:`verify_password_off_loop`): on the
event loop, a burst of logins would stall every other request.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from pwdlib import PasswordHash
from zxcvbn.frequency_lists import FREQUENCY_LISTS  # type: ignore[import-untyped]

API_KEY_PREFIX = "ffk_"
"""Every API key starts with this, which tells it apart from a JWT."""

_password_hash = PasswordHash.recommended()
# Verified against when the username is unknown, so a login takes as long
# whether or not the user exists.
_DUMMY_HASH = _password_hash.hash(secrets.token_urlsafe(16))


PASSWORD_MIN_LENGTH = 12
"""The fewest characters a new password may have (older, shorter ones still log in)."""

# The 30,000 most common leaked passwords, ranked, as zxcvbn ships them: no
# download at run time, and a maintained source instead of a copied list.
_COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
_EDGES = "0123456789!@#$%^&*()-_=+.,;:?~ "


def password_problem(password: str) -> str | None:
    """Why ``password`` may not be chosen as a new password; None if it may.

    Too short, or a common password: as it is, in any case, with digits or
    symbols around it (``Password123!``), or one short piece repeated.
    """
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"use at least {PASSWORD_MIN_LENGTH} characters"
    lowered = password.lower()
    core = lowered.strip(_EDGES)
    if lowered in _COMMON_PASSWORDS or core in _COMMON_PASSWORDS:
        return "this is one of the most common passwords: choose one that is not"
    if any(lowered == lowered[:size] * (len(lowered) // size) for size in range(1, 7)):
        return "a short piece repeated is easy to guess: choose a password that is not"
    return None


def hash_password(password: str) -> str:
    """The hash to store for ``password`` (argon2, salted)."""
    return _password_hash.hash(password)


def verify_password(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """Check ``password``; return (ok, new hash if the stored one should be upgraded)."""
    if hashed is None:
        _password_hash.verify(password, _DUMMY_HASH)
        return False, None
    return _password_hash.verify_and_update(password, hashed)


def _lower_priority() -> None:
    # Each argon2 hash runs four lanes; at normal priority a login burst would
    # starve the event loop's thread of CPU even off the loop. On Linux the
    # nice value is per thread and the lanes' threads inherit it (elsewhere
    # this call would renice a process, so it is not made).
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


# Half the cores: a burst of logins queues here instead of taking every core
# (and 64 MiB per hash in flight).
_PASSWORD_THREADS = ThreadPoolExecutor(
    max_workers=max(1, (os.cpu_count() or 2) // 2),
    thread_name_prefix="password",
    initializer=_lower_priority,
)


async def hash_password_off_loop(password: str) -> str:
    """:func:`hash_password` on the password threads, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PASSWORD_THREADS, hash_password, password)


async def verify_password_off_loop(password: str, hashed: str | None) -> tuple[bool, str | None]:
    """:func:`verify_password` on the password threads, off the event loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_PASSWORD_THREADS, verify_password, password, hashed)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid access token says.

    Attributes:
        user_id: The user it was issued to.
        token_id: Its own id (``jti``), by which ``POST /auth/logout`` revokes it.
        issued_at: When it was issued, to the microsecond: a password change
            revokes every token issued before it.
        expires_at: When it stops working anyway; a revoked id is kept until then.
    """

    user_id: uuid.UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class TokenSigner:
    """Issues and checks the API's access tokens."""

    secret: str
    algorithm: str
    lifetime: timedelta

    def issue(self, user_id: uuid.UUID) -> str:
        """A token for ``user_id``, with an id of its own, that expires after ``lifetime``."""
        now = datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "jti": uuid.uuid4().hex,
            # A float, not whole seconds: a token issued just after a password
            # change (in the same second) must not look older than the change.
            "iat": now.timestamp(),
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self.secret, algorithm=self.algorithm)

    def claims(self, token: str) -> TokenClaims | None:
        """What a valid, unexpired token says; None for any other token."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[self.algorithm],
                options={"require": ["exp", "iat", "sub", "jti"]},
            )
            return TokenClaims(
                user_id=uuid.UUID(str(claims["sub"])),
                token_id=str(claims["jti"]),
                issued_at=datetime.fromtimestamp(float(claims["iat"]), UTC),
                expires_at=datetime.fromtimestamp(float(claims["exp"]), UTC),
            )
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError):
            return None


def new_api_key() -> str:
    """A fresh API key: the prefix and 256 random bits."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """The stored form of a key.

    A plain sha256 is enough: the key has 256 bits of entropy, so there is
    nothing to brute-force, and lookups stay one indexed equality.
    """
    return hashlib.sha256(key.encode()).hexdigest()
