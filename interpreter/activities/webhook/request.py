"""Build a ``webhook`` node's request: the exact body and its signature."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from interpreter.activities.outbound import add_idempotency_key, parse_url
from interpreter.activities.webhook.config import WebhookConfig


def body_bytes(payload: object) -> bytes:
    """The bytes sent and signed: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, body: bytes) -> str:
    """The ``X-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def build_request(
    client: httpx.AsyncClient,
    config: WebhookConfig,
    *,
    delivery: str,
    idempotency_key: str | None,
    timeout: float,
) -> httpx.Request:
    """The POST ``config`` describes.

    Raises:
        ValueError: the URL is malformed.
        EgressDenied: the scheme is not http or https.
    """
    url = parse_url(config.url)
    body = body_bytes(config.payload)
    headers = httpx.Headers(config.headers)
    headers.setdefault("Content-Type", "application/json")
    headers["X-Delivery-Id"] = delivery
    if config.secret is not None:
        headers["X-Signature"] = signature(config.secret, body)
    add_idempotency_key(headers, idempotency_key)
    return client.build_request("POST", url, headers=headers, content=body, timeout=timeout)
