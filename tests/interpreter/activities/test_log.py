"""The log node writes through the activity logger and returns its message."""

from __future__ import annotations

import logging

import pytest

from interpreter.activities import LogActivity
from tests.support.activities import fail, node_request, run

pytestmark = pytest.mark.fast


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (None, logging.INFO),
        ("debug", logging.DEBUG),
        ("warning", logging.WARNING),
        ("ERROR", logging.ERROR),
    ],
)
async def test_logs_at_the_level_with_run_and_node_ids(
    caplog: pytest.LogCaptureFixture, level: str | None, expected: int
) -> None:
    config = {"message": "cold lead 42"} | ({"level": level} if level else {})
    caplog.set_level(logging.DEBUG, logger="temporalio.activity")

    output = await run(LogActivity().log, node_request(config, node_type="log"))

    assert output == {"message": "cold lead 42"}
    record = next(r for r in caplog.records if r.getMessage().startswith("cold lead 42"))
    assert record.levelno == expected
    assert record.__dict__["flowforge_run_id"] == "run-1"
    assert record.__dict__["flowforge_node_id"] == "call"
    assert record.__dict__["flowforge_node_path"] == "call"
    assert record.__dict__["temporal_activity"]["activity_id"] == "test"


async def test_non_text_message_is_logged_as_json(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="temporalio.activity")

    output = await run(LogActivity().log, node_request({"message": {"id": 7, "hot": True}}))

    assert output == {"message": '{"id":7,"hot":true}'}


async def test_unknown_level_is_a_config_error() -> None:
    error = await fail(LogActivity().log, node_request({"message": "x", "level": "loud"}))

    assert error.type == "ConfigError"
    assert error.non_retryable
    assert error.message.startswith("node 'call': config.level: Input should be 'debug'")
