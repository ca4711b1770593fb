"""A test run's mocks as pure logic: their shapes, their keys, and what the run's proof covers."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from interpreter.contract.run import RunInput, RunMeta
from interpreter.contract.testing import Mock, TestSpec, wildcard
from interpreter.dsl.definition import Definition
from interpreter.run_proof import run_digest

pytestmark = pytest.mark.fast

DEFINITION = Definition.model_validate(
    {"name": "d", "nodes": [{"id": "a", "type": "http", "config": {"url": "https://x.test"}}]}
)


def test_a_mock_gives_one_answer_and_nothing_means_a_null_output() -> None:
    assert Mock.model_validate({}).steps()[0].output is None
    assert Mock.model_validate({"output": 0}).steps()[0].output == 0
    bad_mocks: list[dict[str, Any]] = [
        {"output": 1, "error": {"type": "X"}},
        {"error": {"type": "X"}, "sequence": [{"output": 1}]},
        {"sequence": []},
        {"sequence": [{"output": 1, "error": {"type": "X"}}]},
        {"outptu": 1},
    ]
    for bad in bad_mocks:
        with pytest.raises(ValidationError):
            Mock.model_validate(bad)


def test_a_spec_survives_the_trip_through_a_stored_run() -> None:
    spec = TestSpec(
        mocks={
            "a": Mock.model_validate({"error": {"type": "HttpStatusError", "message": "503"}}),
            "loop[*].call": Mock.model_validate(
                {"sequence": [{"error": {"type": "E"}}, {"output": {"n": 1}}]}
            ),
        }
    )

    again = TestSpec.model_validate_json(spec.model_dump_json())

    assert again == spec


def test_item_paths_find_their_own_key_before_the_star_one() -> None:
    own, every = Mock(output="own"), Mock(output="every")
    spec = TestSpec(mocks={"loop[2].call": own, "loop[*].call": every}, run_for_real=["o[*].i"])

    assert wildcard("o[10].i[3].call") == "o[*].i[*].call"
    assert spec.mock_for("loop[2].call") is own
    assert spec.mock_for("loop[0].call") is every
    assert spec.mock_for("other") is None
    assert spec.runs_for_real("o[4].i")
    assert not spec.runs_for_real("o")


def test_the_proof_root_covers_mocks_and_stays_the_same_without_them() -> None:
    def run(test: TestSpec | None) -> RunInput:
        meta = RunMeta(workflow_id="w", version=1, test=test)
        return RunInput(definition=DEFINITION, input={"n": 1}, meta=meta)

    plain = run(None).root_digest()
    mocked = run(TestSpec(mocks={"a": Mock(output=1)})).root_digest()
    other = run(TestSpec(mocks={"a": Mock(output=2)})).root_digest()

    assert plain == run_digest(DEFINITION, {"n": 1}, {})
    assert len({plain, mocked, other}) == 3
