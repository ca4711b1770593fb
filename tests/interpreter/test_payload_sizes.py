"""Payload sizes: what is measured, refused at save, and kept in a status answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from interpreter.contract.oversize import oversize
from interpreter.contract.run import RunMeta, RunStatus
from interpreter.dsl.definition import Node
from interpreter.dsl.payloads import payload_bytes
from interpreter.runtime.book import NodeBook
from interpreter.validation.definition import Limits, validate_definition

pytestmark = pytest.mark.fast


def test_a_value_is_measured_as_its_compact_json() -> None:
    assert payload_bytes({"a": [1, 2]}) == len(b'{"a":[1,2]}')
    assert payload_bytes("\x01") == len(b'"\\u0001"')
    assert payload_bytes("é") == 4


def test_oversize_names_the_value_its_size_and_the_limit() -> None:
    assert oversize("node 'n': its output", "x" * 10, 100) is None
    error = oversize("node 'n': its output", "x" * 100, 50)
    assert error is not None
    assert error.type == "OutputTooLarge"
    assert error.details == {"bytes": 102, "limit": 50}
    assert error.message.startswith(
        "node 'n': its output is 102 bytes as JSON, over the 50-byte limit of one Temporal payload"
    )
    assert "`output`" in error.message


def _http(cap: object) -> dict[str, object]:
    return {
        "name": "cap",
        "nodes": [
            {
                "id": "fetch",
                "type": "http",
                "config": {"url": "https://api.example.com/", "max_response_bytes": cap},
            }
        ],
    }


def test_a_response_cap_over_the_payload_limit_is_refused_at_save() -> None:
    limits = Limits(max_payload_bytes=2_000_000)
    _, issues = validate_definition(_http(3_000_000), limits)
    assert [(i.path, i.code) for i in issues] == [
        ("/nodes/0/config/max_response_bytes", "over_limit")
    ]
    assert issues[0].message.startswith("node 'fetch': max_response_bytes 3000000 is over")
    assert "FLOWFORGE_RUN_MAX_PAYLOAD_BYTES" in issues[0].message
    assert validate_definition(_http(2_000_000), limits)[1] == []
    # Without a limit (direct starts, old callers) nothing is refused.
    assert validate_definition(_http(3_000_000))[1] == []


def test_a_status_answer_fits_the_payload_limit_however_many_large_outputs() -> None:
    nodes = [Node(id=f"n{i}", type="transform", config={"value": 1}) for i in range(200)]
    book = NodeBook(nodes, [], max_output_bytes=16_384, max_total_bytes=200_000)
    now = datetime.now(UTC)
    for node in nodes:
        book.succeed(node.id, "x" * 20_000, 1, now)
    snap = book.snapshot(
        status=RunStatus.RUNNING,
        paused=False,
        meta=RunMeta(workflow_id="w", version=1),
        started_at=now,
        output=None,
        error=None,
    )
    assert payload_bytes(snap.model_dump(mode="json")) < 200_000
    assert all(n.output["truncated"] for n in snap.nodes)
    # A few small outputs are shown whole.
    small = NodeBook(nodes[:2], [], max_output_bytes=16_384, max_total_bytes=200_000)
    small.succeed("n0", {"k": "v"}, 1, now)
    shown = small.snapshot(
        status=RunStatus.RUNNING,
        paused=False,
        meta=RunMeta(workflow_id="w", version=1),
        started_at=now,
        output=None,
        error=None,
    )
    assert shown.nodes[0].output == {"k": "v"}
