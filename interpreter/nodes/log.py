"""``log`` (alias ``echo``): a message in the worker's log."""

from __future__ import annotations

from interpreter.activities.log import LogConfig
from interpreter.nodes.kind import NodeKind

LOG = NodeKind("log", LogConfig, aliases=("echo",), activity="log", local=True)
