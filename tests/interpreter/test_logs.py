"""JSON log lines: what a worker's records carry inside an activity and inside a workflow."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from interpreter.contract import search_attributes
from interpreter.logs import ConsoleFormatter
from tests.support.logs import json_log_lines, json_records


@activity.defn(name="speak")
async def speak() -> None:
    # A module logger, as activities' helpers use: no extras of its own.
    logging.getLogger("tests.speak").warning("from the activity")


@workflow.defn(name="speaks")
class Speaks:
    @workflow.run
    async def run(self) -> None:
        workflow.logger.warning("from the workflow")
        await workflow.execute_activity(
            speak, activity_id="enrich[2].profile", start_to_close_timeout=timedelta(seconds=10)
        )


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Records of the root logger, as the worker formats them, one JSON object a line."""
    with json_log_lines() as stream:
        yield stream


def lines_saying(stream: io.StringIO, text: str) -> list[dict[str, Any]]:
    lines = json_records(stream)
    return [line for line in lines if line["message"].startswith(text)]


async def test_records_carry_the_run_and_node_they_were_logged_for(
    temporal_client: Client, task_queue: str, json_lines: io.StringIO
) -> None:
    from worker.runtime import workflow_runner

    run_id = f"run-{uuid.uuid4().hex[:8]}"
    attributes = TypedSearchAttributes([SearchAttributePair(search_attributes.WORKFLOW_ID, "wf-7")])
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[Speaks],
        activities=[speak],
        workflow_runner=workflow_runner(temporal_client.data_converter),
    ):
        await temporal_client.execute_workflow(
            Speaks.run, id=run_id, task_queue=task_queue, search_attributes=attributes
        )

    [in_activity] = lines_saying(json_lines, "from the activity")
    assert in_activity["logger"] == "tests.speak"
    assert in_activity["flowforge_run_id"] == run_id
    assert in_activity["flowforge_node_path"] == "enrich[2].profile"
    assert in_activity["flowforge_node_id"] == "profile"
    [in_workflow] = lines_saying(json_lines, "from the workflow")
    assert in_workflow["flowforge_run_id"] == run_id
    assert in_workflow["flowforge_workflow_id"] == "wf-7"


def test_what_the_caller_passes_wins_and_outside_temporal_nothing_is_added(
    json_lines: io.StringIO,
) -> None:
    log = logging.getLogger("tests.plain")
    log.warning("plain")
    log.warning("given", extra={"flowforge_run_id": "r-given"})

    [plain] = lines_saying(json_lines, "plain")
    assert not {key for key in plain if key.startswith("flowforge_")}
    assert set(plain) >= {"time", "level", "logger", "message"}
    [given] = lines_saying(json_lines, "given")
    assert given["flowforge_run_id"] == "r-given"


def _record(error: BaseException, **extra: Any) -> logging.LogRecord:
    try:
        raise error
    except BaseException as raised:
        record = logging.LogRecord(
            "temporalio.activity", logging.WARNING, __file__, 1, "Completing activity as failed",
            None, (type(raised), raised, raised.__traceback__),
        )  # fmt: skip
    for name, value in extra.items():
        setattr(record, name, value)
    return record


@pytest.mark.fast
def test_console_lines_give_an_expected_failure_in_one_line_with_its_run_and_node() -> None:
    error = ApplicationError("upstream answered 503", type="HttpStatusError")
    line = ConsoleFormatter(colour=False).format(
        _record(error, flowforge_run_id="run-1", flowforge_node_path="charge")
    )
    assert "\n" not in line
    assert line.endswith(
        "WARNING temporalio.activity: Completing activity as failed  run=run-1  node=charge"
        "  (HttpStatusError: upstream answered 503)"
    )


@pytest.mark.fast
def test_console_lines_keep_the_traceback_of_an_unexpected_error_and_colour_on_request() -> None:
    line = ConsoleFormatter(colour=True).format(_record(KeyError("oops")))
    assert "Traceback (most recent call last)" in line
    assert "\x1b[33mWARNING\x1b[0m" in line


@pytest.mark.fast
def test_loggers_get_their_own_levels_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from interpreter.logs import configure_logging
    from worker.settings import WorkerSettings

    monkeypatch.setenv("FLOWFORGE_LOG_LEVELS", "tests.quiet=error, tests.loud = debug")
    levels = WorkerSettings().log_levels
    assert levels == {"tests.quiet": "ERROR", "tests.loud": "DEBUG"}
    root_level = logging.getLogger().level
    try:
        configure_logging("INFO", levels=levels)
        assert logging.getLogger("tests.quiet").getEffectiveLevel() == logging.ERROR
        assert logging.getLogger("tests.loud").getEffectiveLevel() == logging.DEBUG
    finally:
        logging.getLogger().setLevel(root_level)
        for name in levels:
            logging.getLogger(name).setLevel(logging.NOTSET)

    monkeypatch.setenv("FLOWFORGE_LOG_LEVELS", "temporalio")
    with pytest.raises(ValidationError, match="'temporalio' is not `logger=LEVEL`"):
        WorkerSettings()
    monkeypatch.setenv("FLOWFORGE_LOG_LEVELS", "temporalio=LOUD")
    with pytest.raises(ValidationError, match=r"log_levels\.temporalio"):
        WorkerSettings()
