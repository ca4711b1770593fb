"""The ``http`` node: one request through the worker's guarded client.

- ``activity``: :class:`HttpActivity`, the request/response cycle and its failures.
- ``config``: the node's rendered config (:class:`HttpConfig`, auth blocks).
- ``request``: the config as the request to send (auth, query, body).
- ``redirects``: one hop at a time, credentials dropped across origins.
- ``response``: status check (``expect_status``), ``Retry-After``, capped body,
  parsing; shared with ``webhook``.

What it shares with ``webhook`` (client, secrets, breaker, timeouts, network
errors) is :mod:`interpreter.activities.outbound`.
"""

from __future__ import annotations

from interpreter.activities.http.activity import HttpActivity, HttpSettings
from interpreter.activities.http.config import ApiKeyAuth, BasicAuth, BearerAuth, HttpConfig
from interpreter.activities.outbound import build_http_client

__all__ = [
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "HttpActivity",
    "HttpConfig",
    "HttpSettings",
    "build_http_client",
]
