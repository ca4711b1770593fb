"""The DAG engine under a fake host and clock: what starts when, and how each node ends."""

from __future__ import annotations

import pytest

from interpreter.runtime.book import Stop
from tests.support.dag import (
    FakeHost,
    edge,
    make_dag,
    node,
    statuses,
    until,
    value,
)

pytestmark = pytest.mark.fast


# -- roots, pure nodes, output ----------------------------------------------------


def test_a_chain_of_pure_nodes_runs_within_start() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [
            value("a", "{{ input.n }}"),
            value("b", "{{ nodes.a.output + 1 }}"),
            value("c", "{{ nodes.b.output * 10 }}"),
        ],
        [edge("a", "b"), edge("b", "c")],
        run_input={"n": 1},
    )
    dag.start()
    assert statuses(dag) == {"a": "succeeded", "b": "succeeded", "c": "succeeded"}
    assert dag.drained()
    assert dag.error() is None
    assert host.started == []
    assert dag.output(None) == {"c": 20}
    assert dag.output({"sum": "{{ nodes.a.output + nodes.c.output }}"}) == {"sum": 21}


async def test_roots_start_in_definition_order_and_downstream_waits() -> None:
    host = FakeHost()
    dag = make_dag(host, [node("b"), node("a"), node("c")], [edge("a", "c"), edge("b", "c")])
    dag.start()
    await until(lambda: len(host.running()) == 2)
    assert host.started == ["b", "a"]
    assert statuses(dag) == {"b": "running", "a": "running", "c": "pending"}
    await host.finish("a", 1)
    await until(lambda: dag.book.get("a").status.value == "succeeded")
    assert host.running() == ["b"]
    await host.finish("b", 2)
    await until(lambda: host.running() == ["c"])
    assert host.variables["c"]["nodes"] == {}  # c's config reads no node
    await host.finish("c", 3)
    await until(dag.drained)
    assert dag.output(None) == {"c": 3}


async def test_times_come_from_the_host_clock() -> None:
    host = FakeHost()
    dag = make_dag(host, [node("a")])
    dag.start()
    started = host.clock.now
    host.clock.tick(90)
    await host.finish("a", "done")
    await until(dag.drained)
    snap = dag.book.get("a")
    assert snap.started_at == started
    assert snap.ended_at is not None
    assert (snap.ended_at - started).total_seconds() == 90


async def test_a_node_reads_only_the_upstream_values_it_names() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [value("a", 1), value("b", 2), node("c", config={"message": "{{ nodes.a.output }}"})],
        [edge("a", "c"), edge("b", "c")],
    )
    dag.start()
    await until(lambda: host.running() == ["c"])
    assert host.variables["c"]["nodes"] == {
        "a": {"output": 1, "status": "succeeded", "error": None}
    }


# -- joins and skips ----------------------------------------------------------------


def test_a_skipped_branch_skips_downstream_and_any_success_merges() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [
            value("route", "left"),
            value("left", "L"),
            value("right", "R"),
            value("right2", "R2"),
            value("merge", "{{ nodes.left.output }}", join="any_success"),
        ],
        [
            edge("route", "left", when="nodes.route.output == 'left'"),
            edge("route", "right", when="nodes.route.output == 'right'"),
            edge("right", "right2"),
            edge("left", "merge"),
            edge("right2", "merge"),
        ],
    )
    dag.start()
    assert statuses(dag) == {
        "route": "succeeded",
        "left": "succeeded",
        "right": "skipped",
        "right2": "skipped",
        "merge": "succeeded",
    }
    assert dag.scope.lookup("right2")["status"] == "skipped"
    assert dag.output(None) == {"merge": "L"}


def test_all_success_join_skips_when_one_branch_was_skipped() -> None:
    dag = make_dag(
        FakeHost(),
        [value("a", 1), value("b", 2, when="false"), value("c", 3)],
        [edge("a", "c"), edge("b", "c")],
    )
    dag.start()
    assert statuses(dag) == {"a": "succeeded", "b": "skipped", "c": "skipped"}


async def test_all_done_join_runs_after_a_handled_failure() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [node("a"), node("b"), value("c", "{{ nodes.a.status }}", join="all_done")],
        [edge("a", "c", on="always"), edge("b", "c")],
    )
    dag.start()
    await host.fail("a")
    await until(lambda: dag.book.get("a").status.value == "failed")
    await host.finish("b")
    await until(dag.drained)
    assert statuses(dag)["c"] == "succeeded"
    assert dag.scope.lookup("c")["output"] == "failed"
    assert host.unhandled_errors == []
    assert dag.error() is None


def test_a_false_node_when_skips_it_and_its_downstream() -> None:
    dag = make_dag(
        FakeHost(),
        [value("a", 1, when="input.go"), value("b", 2)],
        [edge("a", "b")],
        run_input={"go": False},
    )
    dag.start()
    assert statuses(dag) == {"a": "skipped", "b": "skipped"}
    assert dag.output(None) == {}


def test_a_node_when_that_fails_to_evaluate_fails_the_node() -> None:
    host = FakeHost()
    dag = make_dag(host, [value("a", 1, when="input.absent")], run_input={})
    dag.start()
    snap = dag.book.get("a")
    assert snap.status.value == "failed"
    assert snap.attempts == 0
    assert snap.error is not None
    assert snap.error.type == "ExpressionError"
    assert snap.error.message.startswith("node 'a': when: ")
    assert dag.stop is not None
    assert dag.stop.reason == "failed"


def test_edge_when_reads_the_source_output() -> None:
    dag = make_dag(
        FakeHost(),
        [value("a", 2), value("small", "s"), value("big", "b")],
        [
            edge("a", "small", when="nodes.a.output < 2"),
            edge("a", "big", when="nodes.a.output >= 2"),
        ],
    )
    dag.start()
    assert statuses(dag) == {"a": "succeeded", "small": "skipped", "big": "succeeded"}


def test_an_edge_when_that_fails_to_evaluate_halts_the_dag() -> None:
    dag = make_dag(
        FakeHost(),
        [value("a", 1), value("b", 2), value("c", 3)],
        [edge("a", "b", when="nodes.a.output.absent"), edge("a", "c")],
    )
    dag.start()
    assert dag.stop is not None
    assert dag.stop.node == "a"
    error = dag.error()
    assert error is not None
    assert error.type == "ExpressionError"
    assert error.message.startswith("edge a -> b: ")
    assert statuses(dag)["b"] == "pending"


# -- failures -------------------------------------------------------------------------


async def test_an_on_failure_edge_handles_the_failure() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [node("call"), value("next", 1), value("handler", "{{ nodes.call.error.message }}")],
        [edge("call", "next"), edge("call", "handler", on="failure")],
    )
    dag.start()
    await host.fail("call", "upstream said 503", attempts=3)
    await until(dag.drained)
    assert statuses(dag) == {"call": "failed", "next": "skipped", "handler": "succeeded"}
    assert dag.book.get("call").attempts == 3
    assert dag.scope.lookup("handler")["output"] == "node 'call': upstream said 503"
    assert host.unhandled_errors == []
    assert dag.error() is None


async def test_an_unhandled_failure_halts_the_dag_and_cancels_what_runs() -> None:
    host = FakeHost(policy="fail")
    dag = make_dag(host, [node("a"), node("b"), value("after", 1)], [edge("a", "after")])
    dag.start()
    await host.fail("a", "boom")
    await until(dag.drained)
    assert statuses(dag) == {"a": "failed", "b": "cancelled", "after": "pending"}
    assert [node_id for node_id, _ in host.unhandled_errors] == ["a"]
    error = dag.error()
    assert error is not None
    assert error.message == "node 'a': boom"
    assert error.type == "HttpError"


async def test_on_failure_continue_goes_on_with_the_other_branches() -> None:
    host = FakeHost(policy="continue")
    dag = make_dag(
        host,
        [node("a"), value("after_a", 1), value("b", 2), value("after_b", 3)],
        [edge("a", "after_a"), edge("b", "after_b")],
    )
    dag.start()
    await host.fail("a")
    await until(dag.drained)
    assert statuses(dag) == {
        "a": "failed",
        "after_a": "skipped",
        "b": "succeeded",
        "after_b": "succeeded",
    }
    assert dag.stop is None
    assert dag.error() == dag.unhandled
    assert dag.unhandled is not None


def test_the_failed_node_is_named_by_its_path() -> None:
    dag = make_dag(FakeHost(), [value("a", "{{ input.absent }}")], run_input={}, prefix="loop[4].")
    dag.start()
    error = dag.error()
    assert error is not None
    assert error.message.startswith("node 'loop[4].a': ")


# -- concurrency, pause, halt -----------------------------------------------------


async def test_the_concurrency_limit_holds_ready_nodes_in_the_queue() -> None:
    host = FakeHost()
    dag = make_dag(host, [node("a"), node("b"), node("c")], limit=2)
    dag.start()
    await until(lambda: len(host.running()) == 2)
    assert host.started == ["a", "b"]
    assert list(dag.queue) == ["c"]
    await host.finish("b")
    await until(lambda: host.running() == ["a", "c"])
    assert list(dag.queue) == []


async def test_a_closed_host_starts_nothing_until_pumped() -> None:
    host = FakeHost()
    host.open = False
    dag = make_dag(host, [node("a"), value("b", 1)])
    dag.start()
    assert host.started == []
    assert list(dag.queue) == ["a", "b"]
    assert statuses(dag) == {"a": "pending", "b": "pending"}
    changes = host.changes
    host.open = True
    dag.pump()
    assert host.changes == changes + 1
    assert statuses(dag)["b"] == "succeeded"
    await until(lambda: host.running() == ["a"])


async def test_halt_cancels_running_nodes_and_the_first_reason_wins() -> None:
    host = FakeHost()
    dag = make_dag(host, [node("a"), node("b"), value("c", 1)], [edge("a", "c")], limit=5)
    dag.start()
    await until(lambda: len(host.running()) == 2)
    dag.halt(Stop("cancelled"))
    dag.halt(Stop("failed"))
    await until(dag.drained)
    assert dag.stop is not None
    assert dag.stop.reason == "cancelled"
    assert statuses(dag) == {"a": "cancelled", "b": "cancelled", "c": "pending"}
    assert dag.error() is None


# -- operator actions on a held node ----------------------------------------------


def test_retry_runs_a_held_node_again_with_a_patched_config() -> None:
    host = FakeHost(policy="hold")
    dag = make_dag(
        host,
        [value("a", 5), value("b", "{{ input.absent }}"), value("c", "{{ nodes.b.output }}")],
        [edge("a", "b"), edge("b", "c")],
        run_input={},
    )
    dag.start()
    assert statuses(dag) == {"a": "succeeded", "b": "failed", "c": "pending"}
    assert [node_id for node_id, _ in host.unhandled_errors] == ["b"]
    dag.retry("b", {"value": "{{ nodes.a.output * 2 }}"})
    assert statuses(dag) == {"a": "succeeded", "b": "succeeded", "c": "succeeded"}
    assert dag.scope.lookup("c")["output"] == 10
    assert dag.book.get("b").attempts == 2  # one failed attempt, one that succeeded


async def test_retry_of_a_host_node_runs_it_again_and_adds_attempts() -> None:
    host = FakeHost(policy="hold")
    dag = make_dag(host, [node("a"), value("b", 1)], [edge("a", "b")])
    dag.start()
    await host.fail("a", attempts=3)
    # In a run, an operator's update arrives in a later workflow task, when
    # the failed node's task has ended; wait for that here too.
    await until(lambda: not dag.tasks)
    assert statuses(dag) == {"a": "failed", "b": "pending"}
    dag.retry("a", None)
    await until(lambda: host.running() == ["a"])
    assert host.started == ["a", "a"]
    await host.finish("a", "ok", attempts=1)
    await until(dag.drained)
    assert statuses(dag) == {"a": "succeeded", "b": "succeeded"}
    assert dag.book.get("a").attempts == 4


async def test_skip_with_lets_downstream_go_on_with_the_given_output() -> None:
    host = FakeHost(policy="hold")
    dag = make_dag(host, [node("a"), value("b", "{{ nodes.a.output.id }}")], [edge("a", "b")])
    dag.start()
    await host.fail("a")
    await until(lambda: not dag.tasks)
    host.clock.tick(5)
    dag.skip_with("a", {"id": 7})
    assert statuses(dag) == {"a": "skipped", "b": "succeeded"}
    assert dag.scope.lookup("b")["output"] == 7
    assert dag.book.get("a").output == {"id": 7}
    assert dag.book.get("a").ended_at == host.clock.now


# -- output mappings, pure outcomes, reuse -----------------------------------------


async def test_a_node_output_mapping_sees_result() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [node("a", output={"id": "{{ result.body.id }}", "n": "{{ input.n }}"})],
        run_input={"n": 3},
    )
    dag.start()
    await host.finish("a", {"body": {"id": "x1"}}, attempts=2)
    await until(dag.drained)
    snap = dag.book.get("a")
    assert snap.output == {"id": "x1", "n": 3}
    assert snap.attempts == 2


async def test_an_output_mapping_that_fails_fails_the_node() -> None:
    host = FakeHost()
    dag = make_dag(host, [node("a", output="{{ result.absent }}")])
    dag.start()
    await host.finish("a", {"present": 1}, attempts=2)
    await until(dag.drained)
    snap = dag.book.get("a")
    assert snap.status.value == "failed"
    assert snap.attempts == 2
    assert snap.error is not None
    assert snap.error.type == "ExpressionError"


async def test_a_fail_node_halts_the_dag_with_its_message() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [
            node("slow"),
            value("a", "bad"),
            node("f", "fail", config={"message": "{{ nodes.a.output }} input"}),
        ],
        [edge("a", "f")],
    )
    dag.start()
    await until(dag.drained)
    assert statuses(dag) == {"slow": "cancelled", "a": "succeeded", "f": "failed"}
    error = dag.error()
    assert error is not None
    assert (error.type, error.message) == ("Fail", "bad input")
    assert dag.stop is not None
    assert dag.stop.node == "f"
    assert host.unhandled_errors == []


async def test_a_succeed_node_ends_the_dag_with_its_output() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [
            node("slow"),
            value("a", 1),
            node("done", "succeed", config={"output": {"a": "{{ nodes.a.output }}"}}),
            value("never", 2),
        ],
        [edge("a", "done"), edge("done", "never")],
    )
    dag.start()
    await until(dag.drained)
    assert statuses(dag) == {
        "slow": "cancelled",
        "a": "succeeded",
        "done": "succeeded",
        "never": "pending",
    }
    assert dag.error() is None
    assert dag.output({"ignored": True}) == {"a": 1}


def test_condition_and_switch_outcomes_drive_edges() -> None:
    dag = make_dag(
        FakeHost(),
        [
            node("check", "condition", config={"all": ["input.n > 1", {"any": ["false", "true"]}]}),
            node(
                "pick",
                "switch",
                config={"cases": [{"when": "input.n > 5", "value": "big"}], "default": "small"},
            ),
            value("yes", "{{ nodes.pick.output.value }}"),
        ],
        [edge("check", "pick", when="nodes.check.output.result"), edge("pick", "yes")],
        run_input={"n": 3},
    )
    dag.start()
    assert dag.scope.lookup("check")["output"] == {"result": True}
    assert dag.scope.lookup("yes")["output"] == "small"


def test_a_pure_node_whose_expression_fails_counts_one_attempt() -> None:
    dag = make_dag(FakeHost(policy="continue"), [value("a", "{{ input.absent }}")], run_input={})
    dag.start()
    snap = dag.book.get("a")
    assert snap.status.value == "failed"
    assert snap.attempts == 1


async def test_reused_outputs_are_not_run_again_and_not_mapped_again() -> None:
    host = FakeHost()
    dag = make_dag(
        host,
        [node("a", output="{{ result.absent }}"), value("b", "{{ nodes.a.output + 1 }}")],
        [edge("a", "b")],
        reuse={"a": 41},
    )
    dag.start()
    assert host.started == []
    snap = dag.book.get("a")
    assert (snap.status.value, snap.output, snap.reused, snap.attempts) == (
        "succeeded",
        41,
        True,
        0,
    )
    assert dag.scope.lookup("b")["output"] == 42
