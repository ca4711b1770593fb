"""The ``flowforge`` command line."""

from __future__ import annotations

import typer

app = typer.Typer(help="FlowForge: durable API orchestration on Temporal.", no_args_is_help=True)
