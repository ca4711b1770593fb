"""The ``webhook`` node: a signed JSON POST whose every delivery attempt is recorded.

- ``activity``: :class:`WebhookActivity`, one attempt per Temporal attempt.
- ``config``: the node's rendered config.
- ``request``: the exact body and its signature.
- ``record``: what is kept of each attempt, and the recorder the worker provides.

What it shares with ``http`` (client, secrets, breaker, timeouts, network
errors) is :mod:`interpreter.activities.outbound`; its status rules are
:mod:`interpreter.activities.http.response`'s.
"""

from __future__ import annotations

from interpreter.activities.webhook.activity import WebhookActivity, WebhookSettings
from interpreter.activities.webhook.config import WebhookConfig
from interpreter.activities.webhook.record import DeliveryRecord, DeliveryRecorder

__all__ = [
    "DeliveryRecord",
    "DeliveryRecorder",
    "WebhookActivity",
    "WebhookConfig",
    "WebhookSettings",
]
