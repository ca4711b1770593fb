"""``http``: one HTTP request, through the egress guard and the node's circuit breaker."""

from __future__ import annotations

from interpreter.activities.http.config import HttpConfig
from interpreter.nodes.kind import NodeKind

HTTP = NodeKind("http", HttpConfig, activity="http", reads_secrets=True, local=True)
