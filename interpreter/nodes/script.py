"""``script``: user code run in the worker's sandbox."""

from __future__ import annotations

from interpreter.activities.script.config import ScriptConfig
from interpreter.nodes.kind import NodeKind

SCRIPT = NodeKind("script", ScriptConfig, activity="script")
