"""Runs decoding the same definition, options and metadata share one parsed copy of each."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from interpreter.contract.client import PLAIN_CONVERTER
from interpreter.contract.run import PinnedWorkflow, RunInput, RunMeta, RunOptions
from interpreter.contract.shared import SHARED, SharedModels, digest
from interpreter.validation.definition import validate_definition
from tests.support.workflows import make_run

PARKED = {
    "name": "parked",
    "nodes": [{"id": "wait", "type": "wait_for_signal", "config": {"signal": "go"}}],
    "edges": [],
}


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    size = SHARED.size
    SHARED.clear()
    yield
    SHARED.resize(size)
    SHARED.clear()


def decode(run: RunInput) -> RunInput:
    """``run`` as a worker gets it: through the payload converter, as JSON."""
    converter = PLAIN_CONVERTER.payload_converter
    (value,) = converter.from_payloads(converter.to_payloads([run]), [RunInput])
    assert isinstance(value, RunInput)
    return value


def test_two_decodes_of_one_run_share_its_definition_options_and_meta() -> None:
    run = make_run(PARKED, {"n": 1})
    first, second = decode(run), decode(run.model_copy(update={"input": {"n": 2}}))
    assert first.definition is second.definition
    assert first.options is second.options
    assert first.meta is second.meta
    assert first.input != second.input
    assert first.definition == run.definition
    assert first.options == run.options


def test_another_definition_options_or_meta_is_parsed_on_its_own() -> None:
    run = make_run(PARKED)
    other = make_run({**PARKED, "name": "other"}, default_max_concurrency=3)
    other = other.model_copy(update={"meta": RunMeta(workflow_id="w", version=2)})
    first, second = decode(run), decode(other)
    assert first.definition is not second.definition
    assert second.definition.name == "other"
    assert second.options.default_max_concurrency == 3 != first.options.default_max_concurrency
    assert (second.meta.workflow_id, second.meta.version) == ("w", 2)


def test_sub_workflow_targets_share_definitions_with_runs() -> None:
    parsed, _ = validate_definition(PARKED)
    assert parsed is not None
    pinned = PinnedWorkflow(workflow_id="child", version=1, definition=parsed)
    run = make_run(PARKED).model_copy(update={"children": {"child@1": pinned}})
    decoded = decode(run)
    assert decoded.children["child@1"].definition is decoded.definition


def test_models_handed_in_as_models_stay_their_own() -> None:
    run = make_run(PARKED)
    again = RunInput(definition=run.definition, meta=run.meta)
    assert again.definition is run.definition
    assert SHARED.entries("definition") == []


def test_the_cache_keeps_the_most_recently_used_and_at_most_its_size() -> None:
    SHARED.resize(2)
    runs = [make_run({**PARKED, "name": f"v{n}"}) for n in range(3)]
    first = decode(runs[0])
    decode(runs[1])
    assert decode(runs[0]).definition is first.definition  # used again: now the newest
    decode(runs[2])
    names = [model.name for _, model in SHARED.entries("definition")]  # type: ignore[attr-defined]
    assert names == ["v0", "v2"]
    assert len(SHARED.entries("options")) == 1  # every run had the same options
    SHARED.resize(1)
    assert len(SHARED.entries("definition")) == 1


def test_size_zero_shares_nothing() -> None:
    SHARED.resize(0)
    run = make_run(PARKED)
    assert decode(run).definition is not decode(run).definition
    assert SHARED.entries("definition") == []


def test_an_invalid_value_fails_as_before_and_is_not_kept() -> None:
    converter = PLAIN_CONVERTER.payload_converter
    (payload,) = converter.to_payloads([make_run(PARKED)])
    payload.data = payload.data.replace(b'"max_attempts_cap":20', b'"max_attempts_cap":0')
    with pytest.raises(ValidationError, match=r"options\.max_attempts_cap"):
        converter.from_payloads([payload], [RunInput])
    assert SHARED.entries("options") == []


def test_keys_are_the_digest_of_the_decoded_json() -> None:
    decode(make_run(PARKED))
    ((key, model),) = SHARED.entries("options")
    assert isinstance(model, RunOptions)
    assert key == digest(model.model_dump(mode="json"))


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="size must be >= 0"):
        SharedModels().resize(-1)


def test_python_values_that_are_not_json_are_not_shared() -> None:
    raw: dict[str, Any] = make_run(PARKED).model_dump()
    raw["definition"]["input_schema"] = {"default": {1, 2}}  # a set: not JSON
    run = RunInput.model_validate(raw)
    assert run.definition.input_schema == {"default": {1, 2}}
    assert SHARED.entries("definition") == []
    assert len(SHARED.entries("options")) == 1  # the options are JSON: shared
