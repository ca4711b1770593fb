"""``webhook``: a signed delivery to a subscriber, every attempt recorded."""

from __future__ import annotations

from interpreter.activities.webhook.config import WebhookConfig
from interpreter.nodes.kind import NodeKind

WEBHOOK = NodeKind("webhook", WebhookConfig, activity="webhook", reads_secrets=True, local=True)
