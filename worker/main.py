"""The worker process: connect, run until SIGTERM/SIGINT, then shut down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from interpreter import tracing
from interpreter.contract.client import connect
from interpreter.logs import TemporalContextFilter, configure_logging
from worker.attempts import AttemptLogInterceptor
from worker.database import database_pool, stores
from worker.runtime import create_worker, http_client
from worker.settings import WorkerSettings
from worker.telemetry import worker_runtime

log = logging.getLogger("flowforge.worker")


async def serve(settings: WorkerSettings) -> None:
    """Poll the task queue until a stop signal, then shut down gracefully.

    Running activities get ``graceful_shutdown_seconds`` to finish before they
    are cancelled.
    """
    client = await connect(
        settings.temporal_address,
        settings.temporal_namespace,
        worker_runtime(settings),
        converter=settings.data_converter(),
    )
    async with http_client(settings) as http, database_pool(settings) as pool:
        worker = create_worker(client, settings, http=http, stores=stores(settings, pool))
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        runner = asyncio.create_task(worker.run())
        log.info(
            "worker polling task queue %r on %s", settings.task_queue, settings.temporal_address
        )
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not runner.done():
            log.info("stopping: waiting for running activities")
            await worker.shutdown()
        await runner
        # Attempt rows still waiting for their batch are written before the pool closes.
        for interceptor in worker.config().get("interceptors", []):
            if isinstance(interceptor, AttemptLogInterceptor):
                await interceptor.drain()


def _problem(error: ErrorDetails) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "settings"
    return f"{where}: {error['msg']}"


def main() -> None:
    """Run the worker; whatever stops it on an error is logged as a JSON line too."""
    try:
        settings = WorkerSettings()
    except ValidationError as error:
        configure_logging("INFO")
        # Without the values given: a malformed key is still a secret.
        problems = error.errors(include_url=False, include_input=False)
        log.error("invalid settings: %s", "; ".join(_problem(p) for p in problems))
        raise SystemExit(2) from None
    # httpx logs every request's full URL at INFO; a query string may hold a secret.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    configure_logging(
        settings.log_level,
        TemporalContextFilter(),
        log_format=settings.log_format,
        colour=settings.log_colour,
        levels=settings.log_levels,
    )
    try:
        settings.data_converter()  # no payload key in prod: refuse before connecting
        # An OTEL_TRACES_EXPORTER that is not installed: refused before connecting too.
        tracing.setup(settings.tracing, "flowforge-worker", outbound=settings.tracing_outbound)
    except ValueError as error:
        log.error("invalid settings: %s", error)
        raise SystemExit(2) from None
    try:
        asyncio.run(serve(settings))
    except Exception:
        log.exception("the worker stopped on an error")
        raise SystemExit(1) from None
    finally:
        tracing.flush()
