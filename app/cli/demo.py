"""``flowforge demo-api``: the demo upstream services, for the examples and templates."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from app.devstack.demo_api import DemoApi, Switches, server
from app.devstack.settings import DemoApiSettings


def demo_api(
    fail_rate: Annotated[
        float | None,
        typer.Option(help="Share of requests that fail with 503 (0-1).", min=0.0, max=1.0),
    ] = None,
    delay_ms: Annotated[
        int | None, typer.Option(help="Milliseconds every answer waits.", min=0)
    ] = None,
    fail_next: Annotated[
        int, typer.Option(help="The first this many requests of each service fail.", min=0)
    ] = 0,
) -> None:
    """Serve the demo inventory, payments, users, hooks and payroll services until Ctrl-C.

    Ports from FLOWFORGE_DEMO_API_BASE_PORT (9001-9005 by default). Each service
    answers GET /_demo with what it saw and takes PUT /_demo to fail or slow down.
    """
    settings = DemoApiSettings()
    switches = Switches(
        fail_rate=settings.demo_api_fail_rate if fail_rate is None else fail_rate,
        delay_ms=settings.demo_api_delay_ms if delay_ms is None else delay_ms,
        fail_next=fail_next,
    )
    api = DemoApi(settings.demo_api_base_port, switches)
    try:
        uvicorn_server, sockets = server(api, settings.demo_api_host)
    except OSError as exc:
        typer.echo(str(exc.strerror or exc), err=True)
        raise typer.Exit(1) from None
    for name, port in api.ports().items():
        typer.echo(f"demo {name:<9} http://{settings.demo_api_host}:{port}")
    asyncio.run(uvicorn_server.serve(sockets=sockets))
