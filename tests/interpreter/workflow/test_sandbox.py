"""The interpreter's modules pass through the workflow sandbox, and runs leave them untouched.

Passing them through means every run uses the worker's one copy of each
module (``worker.runtime.PASSTHROUGH``); that is sound only while no run can
leave state in a module for the next one to see.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.converter import (
    DataConverter,
    PayloadCodec,
    SerializationContext,
    WithSerializationContext,
)
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._importer import Importer
from temporalio.worker.workflow_sandbox._restrictions import RestrictionContext

from interpreter.contract.shared import SHARED, digest
from interpreter.settings import CommonSettings
from tests.support.temporal import TEST_CONVERTER
from tests.support.workflows import Start
from worker.runtime import (
    RESTRICTIONS,
    ContextFreeSandboxRunner,
    takes_no_context,
    workflow_runner,
)

MUTABLE = (dict, list, set, bytearray)


def test_the_sandbox_passes_every_interpreter_module_through() -> None:
    importer = Importer(RESTRICTIONS, RestrictionContext())
    for name in ("interpreter.runtime.workflow", "interpreter.runtime.host", "interpreter.dsl"):
        assert importer.module_configured_passthrough(name), name


def module_state() -> dict[str, Any]:
    """Every interpreter module's global names, and the contents of its mutable globals."""
    state: dict[str, Any] = {}
    for name, module in sorted(sys.modules.items()):
        if not name.startswith("interpreter") or not isinstance(module, ModuleType):
            continue
        state[name] = sorted(vars(module))
        for attr, value in vars(module).items():
            if isinstance(value, MUTABLE) and not attr.startswith("__"):
                state[f"{name}.{attr}"] = repr(value)
    return state


DEFINITION = {
    "name": "busy",
    "nodes": [
        {"id": "shape", "type": "transform", "config": {"value": {"n": "{{ input.n * 2 }}"}}},
        {
            "id": "route",
            "type": "switch",
            "config": {
                "cases": [{"when": "nodes.shape.output.n < 5", "value": "small"}],
                "default": "big",
            },
        },
        {
            "id": "each",
            "type": "for_each",
            "config": {
                "items": "[1, 2, 3]",
                "body": {
                    "nodes": [
                        {"id": "sq", "type": "transform", "config": {"value": "{{ item * 2 }}"}}
                    ],
                    "output": "{{ nodes.sq.output }}",
                },
            },
        },
        {"id": "say", "type": "log", "config": {"message": "{{ nodes.route.output.value }}"}},
    ],
    "edges": [
        {"from": "shape", "to": "route"},
        {"from": "route", "to": "each"},
        {"from": "each", "to": "say"},
    ],
    "output": {"route": "{{ nodes.route.output.value }}", "each": "{{ nodes.each.output }}"},
}


async def test_runs_leave_the_interpreters_module_state_as_they_found_it(start: Start) -> None:
    first = await start(DEFINITION, {"n": 1})
    assert await first.result() == {"route": "small", "each": [2, 4, 6]}
    before = module_state()

    for n in (1, 7, 50):
        await (await start(DEFINITION, {"n": n})).result()

    assert module_state() == before


async def test_runs_share_parsed_definitions_and_leave_them_as_parsed(start: Start) -> None:
    # Histories replayed earlier decoded inputs older versions wrote, with fewer fields.
    SHARED.clear()
    for n in (1, 7):
        await (await start(DEFINITION, {"n": n})).result()

    names = [model.name for _, model in SHARED.entries("definition")]  # type: ignore[attr-defined]
    assert "busy" in names
    for kind in ("definition", "options", "meta"):
        entries = SHARED.entries(kind)
        assert entries, kind
        for key, model in entries:  # what each holds still is what its key was taken from
            assert digest(model.model_dump(mode="json")) == key, (kind, model)


class _ContextualCodec(PayloadCodec, WithSerializationContext):
    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return list(payloads)

    def with_context(self, context: SerializationContext) -> _ContextualCodec:
        return self


@pytest.mark.fast
def test_runs_skip_the_sandbox_round_trip_per_payload_only_for_a_codec_without_context() -> None:
    # FlowForge's own converter, sealing or not: the codec ignores context.
    for converter in (TEST_CONVERTER, CommonSettings(payload_encryption=False).data_converter()):
        assert takes_no_context(converter)
        assert isinstance(workflow_runner(converter), ContextFreeSandboxRunner)
    contextual = dataclasses.replace(DataConverter.default, payload_codec=_ContextualCodec())
    assert not takes_no_context(contextual)
    assert isinstance(workflow_runner(contextual), SandboxedWorkflowRunner)
