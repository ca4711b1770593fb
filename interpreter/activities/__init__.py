"""Node activities: the nodes that touch the outside world.

A worker builds one pooled client with :func:`build_http_client` and registers
the bound activity methods::

    client = build_http_client(EgressPolicy(allow=settings.egress_allow), max_connections=100)
    activities = [
        HttpActivity(client, HttpSettings()).http,
        LogActivity().log,        # the workflow also sends `echo` nodes here
        ValidateActivity().validate,
        ScriptActivity(ScriptSettings()).script,
        WebhookActivity(client, WebhookSettings(), recorder=recorder).webhook,
    ]

The config models (``HttpConfig``, ``LogConfig``, ``ValidateConfig``,
``ScriptConfig``, ``WebhookConfig``) check a node's rendered config at run
time and can check a definition at save time.

Where to look:

- ``base``: the request/result contract, and how a failure becomes Temporal's
  error: retried or not, after how long.
- ``outbound``: what the nodes that call another service share (the client,
  secrets revealed and masked, circuit breaker, timeouts, network errors);
  ``circuit``, ``secrets`` and ``masking`` are its parts.
- ``http``, ``webhook``, ``script``, ``validate``, ``log``: one node type each.
"""

from __future__ import annotations

from interpreter.activities.base import (
    ActivityRequest,
    ActivityResult,
    next_retry_delay,
    node_activity,
    to_application_error,
)
from interpreter.activities.http.activity import HttpActivity, HttpSettings
from interpreter.activities.http.config import ApiKeyAuth, BasicAuth, BearerAuth, HttpConfig
from interpreter.activities.log import LogActivity, LogConfig
from interpreter.activities.outbound import build_http_client
from interpreter.activities.script.activity import ScriptActivity, ScriptSettings
from interpreter.activities.script.config import ScriptConfig
from interpreter.activities.script.sandbox import ScriptIsolation
from interpreter.activities.secrets import SecretResolver
from interpreter.activities.validate.activity import Rule, ValidateActivity, ValidateConfig
from interpreter.activities.webhook.activity import WebhookActivity, WebhookSettings
from interpreter.activities.webhook.config import WebhookConfig
from interpreter.activities.webhook.record import DeliveryRecord, DeliveryRecorder

__all__ = [
    "ActivityRequest",
    "ActivityResult",
    "ApiKeyAuth",
    "BasicAuth",
    "BearerAuth",
    "DeliveryRecord",
    "DeliveryRecorder",
    "HttpActivity",
    "HttpConfig",
    "HttpSettings",
    "LogActivity",
    "LogConfig",
    "Rule",
    "ScriptActivity",
    "ScriptConfig",
    "ScriptIsolation",
    "ScriptSettings",
    "SecretResolver",
    "ValidateActivity",
    "ValidateConfig",
    "WebhookActivity",
    "WebhookConfig",
    "WebhookSettings",
    "build_http_client",
    "next_retry_delay",
    "node_activity",
    "to_application_error",
]
