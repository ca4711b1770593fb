"""The worker process: connect, run until SIGTERM/SIGINT, then shut down gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal

from interpreter.contract.client import connect
from worker.database import database_pool, stores
from worker.runtime import create_worker, http_client
from worker.settings import WorkerSettings
from worker.telemetry import metrics_runtime

log = logging.getLogger("flowforge.worker")


async def serve(settings: WorkerSettings) -> None:
    """Poll until a stop signal; then let running activities finish (up to
    ``graceful_shutdown_seconds``) before they are cancelled."""
    client = await connect(
        settings.temporal_address, settings.temporal_namespace, metrics_runtime(settings)
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


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # httpx logs every request's full URL at INFO; a query string may hold a secret.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(serve(WorkerSettings()))
