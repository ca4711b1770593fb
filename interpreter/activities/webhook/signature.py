"""FlowForge's webhook signature, v1: what inbound hooks check and `webhook` nodes send.

``X-Signature: sha256=<hex>`` is the HMAC-SHA256, keyed with the shared
secret, of ``v1:<X-Timestamp>:<Idempotency-Key or empty>:<raw body>``, where
``X-Timestamp`` is Unix time in whole seconds. Covering the timestamp lets a
receiver refuse a stale (replayed) call; covering the key stops it from being
stripped or swapped. Without a timestamp the legacy signature covers the raw
body alone (only hooks that opt out of timestamps accept it).
"""

from __future__ import annotations

import hashlib
import hmac

SCHEME = "sha256="
VERSION = "v1"
"""The first field of the signed string; a new scheme would get a new one."""


def signed_bytes(body: bytes, timestamp: str | None, idempotency_key: str | None = None) -> bytes:
    """What the signature covers: the v1 string, or the raw body alone without a timestamp."""
    if timestamp is None:
        return body
    prefix = f"{VERSION}:{timestamp}:{idempotency_key or ''}:"
    return prefix.encode("ascii", "replace") + body


def sign(
    secret: str, body: bytes, timestamp: str | None = None, idempotency_key: str | None = None
) -> str:
    """The ``X-Signature`` value for ``body`` sent with ``timestamp`` and ``idempotency_key``."""
    covered = signed_bytes(body, timestamp, idempotency_key)
    return SCHEME + hmac.new(secret.encode(), covered, hashlib.sha256).hexdigest()
