"""``python -m app.cli``: the ``flowforge`` command without its console script."""

from __future__ import annotations

from app.cli.main import app

app(prog_name="flowforge")
