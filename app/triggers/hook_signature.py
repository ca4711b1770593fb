"""Checking an inbound webhook call's signature.

``X-Signature: sha256=<hex>`` is the HMAC-SHA256, keyed with the hook's
secret, of the raw body, or, when the caller sends ``X-Timestamp`` (Unix
seconds), of ``<timestamp>.<body>``. A timestamp further than the allowed
skew from the API's clock is refused, so a captured timestamped call cannot
be replayed later; the timestamp cannot be stripped or changed since the
signature covers it.
"""

from __future__ import annotations

import hashlib
import hmac

_SCHEME = "sha256="


def signed_bytes(body: bytes, timestamp: str | None) -> bytes:
    """What the signature covers."""
    return body if timestamp is None else timestamp.encode("ascii") + b"." + body


def sign(secret: str, body: bytes, timestamp: str | None = None) -> str:
    """The ``X-Signature`` value for ``body`` (and ``timestamp``)."""
    digest = hmac.new(secret.encode(), signed_bytes(body, timestamp), hashlib.sha256)
    return _SCHEME + digest.hexdigest()


def signature_problem(
    *,
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_skew: float,
) -> str | None:
    """Why the call is not authentic (a message for the caller), or None if it is."""
    if not signature:
        return "missing X-Signature: send sha256=<hex HMAC-SHA256 of the body> keyed by the secret"
    if not signature.startswith(_SCHEME):
        return "X-Signature must be sha256=<hex digest>"
    if timestamp is not None:
        if not timestamp.isascii() or not timestamp.isdigit():
            return "X-Timestamp must be Unix time in whole seconds"
        if abs(now - int(timestamp)) > max_skew:
            return (
                f"X-Timestamp is more than {max_skew:g}s away from the server's clock: "
                "refused as a possible replay; sign the call again with the current time"
            )
    expected = sign(secret, body, timestamp)
    if not hmac.compare_digest(
        expected.encode(), signature.strip().lower().encode("ascii", "replace")
    ):
        covered = "the raw body" if timestamp is None else "<X-Timestamp>.<raw body>"
        return f"X-Signature does not match: sign {covered} with HMAC-SHA256 and the hook's secret"
    return None
