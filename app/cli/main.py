"""The ``flowforge`` command line.

Shell completion: ``flowforge --install-completion`` (bash, zsh, fish, PowerShell).
"""

from __future__ import annotations

import typer

from app.cli import auth, db, demo, dev, operations, runs, workflows

app = typer.Typer(help="FlowForge: durable API orchestration on Temporal.", no_args_is_help=True)
app.command("dev")(dev.dev)
app.command("demo-api")(demo.demo_api)
app.command("login")(auth.login)
app.command("failures")(operations.failures)
app.add_typer(auth.users, name="users")
app.add_typer(workflows.app, name="workflows")
app.add_typer(runs.app, name="runs")
app.add_typer(operations.schedules, name="schedules")
app.add_typer(operations.hooks, name="hooks")
app.add_typer(operations.secrets, name="secrets")
app.add_typer(operations.breakers, name="breakers")
app.add_typer(db.app, name="db")
