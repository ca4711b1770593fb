"""Build a ``webhook`` node's request: the exact body and its signature."""

from __future__ import annotations

import json

import httpx

from interpreter.activities.outbound import add_idempotency_key, parse_url
from interpreter.activities.webhook.config import WebhookConfig
from interpreter.activities.webhook.signature import sign
from interpreter.tracing import add_trace_context


def body_bytes(payload: object) -> bytes:
    """The bytes sent and signed: compact JSON, UTF-8."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def build_request(
    client: httpx.AsyncClient,
    config: WebhookConfig,
    *,
    delivery: str,
    idempotency_key: str | None,
    timeout: float,
    now: float,
) -> httpx.Request:
    """The POST ``config`` describes, signed (v1) at ``now`` (Unix seconds) when it has a secret.

    Raises:
        ValueError: the URL is malformed.
        EgressDenied: the scheme is not http or https.
    """
    url = parse_url(config.url)
    body = body_bytes(config.payload)
    headers = httpx.Headers(config.headers)
    headers.setdefault("Content-Type", "application/json")
    headers["X-Delivery-Id"] = delivery
    add_idempotency_key(headers, idempotency_key)
    add_trace_context(headers)
    if config.secret is not None:
        timestamp = str(int(now))
        headers["X-Timestamp"] = timestamp
        headers["X-Signature"] = sign(
            config.secret, body, timestamp, headers.get("Idempotency-Key")
        )
    return client.build_request("POST", url, headers=headers, content=body, timeout=timeout)
