"""The benchmarks stay runnable: their definitions validate, every engine's workload is whole.

The engine comparison (``python -m bench.peers``) runs each workload module in
that engine's own environment, which this suite does not have; so each module
is checked as source (what it imports, what it defines), and the ones that
run in FlowForge's environment are imported. The peers are real sockets.
"""

from __future__ import annotations

import ast
import asyncio
import json
import re
import tomllib
from pathlib import Path

import pytest

from bench.definitions import diamond, fan_out, sequential
from bench.peer import peer_process, round_trip_ms
from bench.peers import harness
from bench.peers.engines import BASELINE, ENGINES, EngineSpec, by_name
from bench.peers.report import Collected, table
from interpreter.dsl.expressions import DEFAULT_COST_LIMIT, expression_cost
from interpreter.validation.definition import validate_definition
from tests.support.peer import Peer

ROOT = Path(__file__).parents[1]
URL = "http://127.0.0.1:9/ok"
# What a workload may import in an engine's own environment, besides its engine.
EVERYWHERE = {"httpx", "bench"}


def _module_path(module: str) -> Path:
    return ROOT / Path(*module.split(".")).with_suffix(".py")


def _top_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.fast
@pytest.mark.parametrize(
    "definition",
    [sequential(URL, 20), sequential(URL, 3), fan_out(URL, 100), diamond(URL, 8)],
    ids=["chain-20", "chain-3", "fan-out-100", "diamond"],
)
def test_the_bench_definitions_are_valid(definition: dict[str, object]) -> None:
    parsed, issues = validate_definition(definition)
    assert parsed is not None, issues


@pytest.mark.fast
def test_the_fan_out_join_is_within_the_default_expression_cost() -> None:
    # What the http node returns for the peer's answer, for each of the 100 calls.
    answer = {"status": 200, "headers": {"content-length": "12"}, "body": {"ok": True}}
    outputs = {f"n{i}": {"output": answer} for i in range(100)}
    join = next(node for node in fan_out(URL, 100)["nodes"] if node["id"] == "join")
    source = join["config"]["value"].strip("{} ")
    assert expression_cost(source, {"nodes": outputs}) < DEFAULT_COST_LIMIT


@pytest.mark.fast
@pytest.mark.parametrize("engine", ENGINES, ids=lambda engine: engine.name)
def test_every_workload_module_is_whole(engine: EngineSpec) -> None:
    path = _module_path(engine.module)
    tree = ast.parse(path.read_text())
    defined = {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}
    assert "open_engine" in defined, f"{path} defines no open_engine"
    assert "harness.main(open_engine)" in path.read_text()
    if engine.requirements:
        # Its environment has its engine, httpx and the stdlib, not FlowForge.
        allowed = {"app", "interpreter", "worker", "tests"}
        assert not _top_imports(path) & allowed, f"{path} imports FlowForge"
        text = path.read_text()
        assert "from bench.definitions" not in text


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower()


@pytest.mark.fast
def test_no_engine_is_a_flowforge_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    names = {
        req.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip() for req in declared
    }
    for engine in ENGINES:
        for requirement in engine.requirements:
            name = requirement.split("[")[0].split(">")[0].split("<")[0].strip()
            if name != "httpx":
                assert name not in names, f"{name} is in FlowForge's own dependencies"


@pytest.mark.fast
def test_the_workloads_of_flowforges_environment_import() -> None:
    from bench.peers.workloads import flowforge_rest, flowforge_temporal, temporal_handwritten

    for workflow_class in (temporal_handwritten.Sequential, temporal_handwritten.FanOut):
        # What @workflow.defn leaves on a class it accepted.
        assert hasattr(workflow_class, "__temporal_workflow_definition")
    run = flowforge_temporal.parsed(fan_out(URL, 100))
    assert len(run.definition.nodes) == 101
    assert flowforge_rest.POLLS_PER_SECOND > 0


@pytest.mark.fast
def test_unknown_engines_are_named() -> None:
    with pytest.raises(ValueError, match="nope"):
        by_name(["flowforge-rest", "nope"])
    assert [engine.name for engine in by_name([BASELINE])] == [BASELINE]


class _Sleeper:
    """An engine whose runs take a known time, to check the harness's arithmetic."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    async def sequential(self, count: int) -> None:
        self.calls.append(("sequential", count))
        await asyncio.sleep(0.01)

    async def fan_out(self, width: int) -> None:
        self.calls.append(("fan_out", width))
        await asyncio.sleep(0.02)


@pytest.mark.fast
async def test_the_harness_alternates_the_workloads_and_counts_runs() -> None:
    engine = _Sleeper()
    job = harness.Job(peer="http://127.0.0.1:9", iterations=2, clients=[4], seconds=0.1)
    figures = await harness.measure(engine, job)
    assert len(figures.sequential) == len(figures.fan_out) == 2
    assert all(0.005 < s < 0.5 for s in figures.sequential)
    # Warm-up, then (seq, fan), then (fan, seq): drift favours neither.
    assert engine.calls[:6] == [
        ("sequential", 20),
        ("fan_out", 100),
        ("sequential", 20),
        ("fan_out", 100),
        ("fan_out", 100),
        ("sequential", 20),
    ]
    # 4 clients of 10 ms runs: at most 400 a second.
    assert 0 < figures.throughput["4"] <= 400
    line = harness.RESULT + json.dumps({"sequential": [1.0], "fan_out": [], "throughput": {}})
    assert harness.parse_result(f"noise\n{line}\n") == {
        "sequential": [1.0],
        "fan_out": [],
        "throughput": {},
    }
    assert harness.parse_result("nothing") is None


@pytest.mark.fast
def test_the_table_shows_medians_and_ratios_to_flowforge_via_rest() -> None:
    engines = by_name([BASELINE, "dbos"])
    base, other = Collected(), Collected()
    base.add({"sequential": [1.0, 2.0, 3.0], "fan_out": [2.0], "throughput": {"4": 10.0}})
    other.add({"sequential": [0.5], "fan_out": [], "throughput": {"4": 20.0}})
    shown = table(engines, {BASELINE: base, "dbos": other}, [4])
    assert "| FlowForge via REST | 2,000 ms (1.00x) | 2,000 ms (1.00x) | 10.0 (1.00x) |" in shown
    assert "| DBOS | 500 ms (0.25x) | - | 20.0 (2.00x) |" in shown


def test_the_peers_answer_without_the_delayed_ack_stall() -> None:
    # Headers and body in two writes cost about 40 ms a request (Nagle against
    # the client's delayed ACK); one write answers in well under a millisecond.
    with peer_process() as url:
        assert round_trip_ms(url) < 20
    peer = Peer()
    try:
        assert round_trip_ms(peer.url) < 20
    finally:
        peer.close()
