"""The ``script`` node: the user's Python ``main(input)`` in a sandboxed child process.

- ``activity``: :class:`ScriptActivity`, one child per attempt.
- ``config``: the node's rendered config (code, limits).
- ``sandbox``: the bubblewrap sandbox, environment and command line of the child.
- ``process``: feeding the job, capturing output, enforcing the deadline.
- ``runner``: the code the child runs (``python -I -S -B -c``); it imports
  nothing of FlowForge.
- ``outcome``: how the child ended, as the node's output or its error.
"""

from __future__ import annotations

from interpreter.activities.script.activity import ScriptActivity, ScriptSettings
from interpreter.activities.script.config import ScriptConfig
from interpreter.activities.script.sandbox import ScriptIsolation

__all__ = ["ScriptActivity", "ScriptConfig", "ScriptIsolation", "ScriptSettings"]
