"""The rendered config of a ``webhook`` node."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, field_validator

from interpreter.activities.http.config import HttpConfig
from interpreter.dsl.durations import Duration
from interpreter.dsl.node_config import NodeConfig

NODE_HEADERS = frozenset({"x-signature", "x-timestamp", "x-delivery-id"})
"""Headers the node sets itself; a config may not override them."""


class WebhookConfig(NodeConfig):
    """Config of a ``webhook`` node (see DSL.md).

    The node POSTs ``payload`` as compact JSON (UTF-8, no spaces). Every
    request carries ``X-Delivery-Id``, the same on every attempt of one node
    in one run, so a receiver can drop duplicates. With ``secret`` it also
    carries ``X-Timestamp`` (Unix seconds when the attempt was signed) and
    ``X-Signature: sha256=<hex>``, the HMAC-SHA256 under the secret of
    ``v1:<X-Timestamp>:<Idempotency-Key or empty>:<raw body>``: the scheme
    FlowForge's own hooks accept (:mod:`interpreter.activities.webhook.signature`).
    A receiver checks it with::

        signed = f"v1:{timestamp}:{idempotency_key or ''}:".encode() + raw_body
        expected = "sha256=" + hmac.new(secret, signed, hashlib.sha256).hexdigest()
        hmac.compare_digest(expected, headers["X-Signature"])

    and refuses a timestamp too far from its clock (a replay).

    Redirects are not followed: a 3xx is an unexpected status.

    Attributes:
        url: Where to POST.
        payload: The JSON body; ``null`` if unset.
        headers: Extra headers (``Content-Type`` defaults to ``application/json``).
        secret: Signing key, usually ``{{ secrets.NAME }}``; no signature if unset.
        expect_status: Statuses that count as delivered; any 2xx if unset.
        timeout: Deadline of one attempt; the node's ``timeout`` if unset.
    """

    # A rendered hole yields a native value: `{{ input.id }}` may give a number
    # where a header wants text.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)

    url: str = Field(min_length=1, max_length=8192)
    payload: Any = None
    headers: dict[str, str] = Field(default_factory=dict)
    secret: str | None = Field(default=None, min_length=1)
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] | None = Field(
        default=None, min_length=1, max_length=100
    )
    timeout: Duration | None = None

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if name.lower() in NODE_HEADERS:
                raise ValueError(f"header {name!r} is set by the webhook node; remove it")
        # The same rules as the http node's headers.
        return HttpConfig._plain_headers(headers)
