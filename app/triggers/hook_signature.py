"""Checking an inbound webhook call's signature.

``X-Signature: sha256=<hex>`` is the HMAC-SHA256, keyed with the hook's
secret, of ``v1:<X-Timestamp>:<Idempotency-Key or empty>:<raw body>``.
A timestamp further than the allowed skew from the API's clock is refused,
and an accepted signature is remembered until its timestamp goes stale, so a
captured call can neither be replayed later nor start a second run now. The
timestamp and the key cannot be stripped or changed: the signature covers them.

A hook created with ``require_timestamp: false`` also accepts the legacy
signature of the raw body alone, without ``X-Timestamp``: such a signature
never goes stale, so it is weaker (see docs/API.md).
"""

from __future__ import annotations

import hashlib
import hmac

from interpreter.activities.webhook.signature import SCHEME as _SCHEME
from interpreter.activities.webhook.signature import VERSION, sign, signed_bytes

__all__ = ["VERSION", "sign", "signature_digest", "signature_problem", "signed_bytes"]


def signature_digest(signature: str) -> str:
    """The name an accepted signature is remembered by (a hash: the table holds no MACs)."""
    return hashlib.sha256(signature.strip().lower().encode("ascii", "replace")).hexdigest()


def _timestamp_problem(timestamp: str, now: float, max_skew: float) -> str | None:
    if not timestamp.isascii() or not timestamp.isdigit():
        return "X-Timestamp must be Unix time in whole seconds"
    if abs(now - int(timestamp)) > max_skew:
        return (
            f"X-Timestamp is more than {max_skew:g}s away from the server's clock: "
            "refused as a possible replay; sign the call again with the current time"
        )
    return None


def signature_problem(
    *,
    secret: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float,
    max_skew: float,
    idempotency_key: str | None = None,
    require_timestamp: bool = True,
) -> str | None:
    """Why the call is not authentic (a message for the caller), or None if it is.

    Args:
        secret: The hook's signing secret.
        body: The raw body as received.
        signature: The ``X-Signature`` header, if sent.
        timestamp: The ``X-Timestamp`` header, if sent.
        now: The API's clock, in Unix seconds.
        max_skew: How far ``timestamp`` may be from ``now``, in seconds.
        idempotency_key: The ``Idempotency-Key`` header, if sent.
        require_timestamp: False only for a hook that opted out of timestamps.

    Returns:
        None for an authentic call, else what is wrong and how to sign instead.
    """
    how = "HMAC-SHA256 of v1:<X-Timestamp>:<Idempotency-Key or empty>:<raw body>"
    if not signature:
        return f"missing X-Signature: send sha256=<hex {how}> keyed by the hook's secret"
    if not signature.startswith(_SCHEME):
        return "X-Signature must be sha256=<hex digest>"
    if timestamp is None and require_timestamp:
        return (
            "missing X-Timestamp: this webhook requires the Unix time in whole seconds "
            f"in X-Timestamp, and X-Signature the {how}"
        )
    if timestamp is not None:
        if idempotency_key is not None and ":" in idempotency_key:
            return "Idempotency-Key must not contain ':' (it is a field of the signed string)"
        problem = _timestamp_problem(timestamp, now, max_skew)
        if problem is not None:
            return problem
    expected = sign(secret, body, timestamp, idempotency_key)
    if not hmac.compare_digest(
        expected.encode(), signature.strip().lower().encode("ascii", "replace")
    ):
        covered = "the raw body (no X-Timestamp sent)" if timestamp is None else how
        return f"X-Signature does not match: send sha256=<hex {covered}> keyed by the hook's secret"
    return None
