"""The ``http`` node: one request through the worker's guarded client.

- ``activity``: :class:`HttpActivity`, the request/response cycle and its failures.
- ``config``: the node's rendered config (:class:`HttpConfig`, auth blocks).
- ``request``: the config as the request to send (URL checks, auth, body).
- ``redirects``: one hop at a time, credentials dropped across origins.
- ``response``: status check (``expect``), ``Retry-After``, capped body, parsing.
- ``client``: the one pooled client behind the egress guard, shared with ``webhook``.
"""

from __future__ import annotations

from interpreter.activities.http.activity import HttpActivity, HttpSettings
from interpreter.activities.http.client import build_http_client
from interpreter.activities.http.config import ApiKeyAuth, BasicAuth, BearerAuth, HttpConfig

__all__ = [
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "HttpActivity",
    "HttpConfig",
    "HttpSettings",
    "build_http_client",
]
