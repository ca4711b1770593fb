"""The DAG's shape: roots, cycles, reachability and ancestors."""

from __future__ import annotations

import itertools

import pytest

from interpreter.dsl.graph import Graph

pytestmark = pytest.mark.fast


def _graph(nodes: str, edges: str) -> Graph:
    """``_graph("abc", "ab bc")``: one-letter ids, edges as pairs."""
    return Graph.build(nodes, [(pair[0], pair[1]) for pair in edges.split()])


def test_build_keeps_definition_order_and_ignores_unknown_endpoints() -> None:
    graph = Graph.build(["b", "a", "b"], [("a", "b"), ("a", "ghost"), ("ghost", "b")])
    assert graph.nodes == ["b", "a"]
    assert graph.children == {"b": [], "a": ["b"]}
    assert graph.parents == {"b": ["a"], "a": []}


def test_roots_are_the_nodes_without_parents_in_definition_order() -> None:
    assert _graph("dcba", "ab cb").roots() == ["d", "c", "a"]


def test_a_dag_has_no_cycles() -> None:
    assert _graph("abcd", "ab ac bd cd").cycles() == []


def test_a_self_loop_is_a_cycle() -> None:
    assert _graph("ab", "ab bb").cycles() == [["b", "b"]]


def test_a_cycle_is_reported_as_a_closed_path() -> None:
    (cycle,) = _graph("abcd", "ab bc cd db").cycles()
    assert cycle[0] == cycle[-1]
    assert sorted(cycle[:-1]) == ["b", "c", "d"]
    for source, target in itertools.pairwise(cycle):
        assert target in _graph("abcd", "ab bc cd db").children[source]


def test_one_cycle_per_strongly_connected_component() -> None:
    cycles = _graph("abcdef", "ab ba bc cd de ec ef").cycles()
    assert sorted(sorted(set(c)) for c in cycles) == [["a", "b"], ["c", "d", "e"]]


def test_cycles_are_deterministic() -> None:
    graph = _graph("abcdef", "ab ba bc cd de ec ef")
    assert graph.cycles() == graph.cycles() == _graph("abcdef", "ab ba bc cd de ec ef").cycles()


def test_reachable_from_roots_excludes_what_only_a_cycle_leads_to() -> None:
    graph = _graph("abcde", "ab cd dc de")
    assert graph.reachable_from_roots() == {"a", "b"}


def test_ancestors_of_a_diamond() -> None:
    assert _graph("abcde", "ab ac bd cd").ancestors() == {
        "a": frozenset(),
        "b": frozenset("a"),
        "c": frozenset("a"),
        "d": frozenset("abc"),
        "e": frozenset(),
    }


def test_ancestors_ignore_duplicate_edges() -> None:
    assert _graph("ab", "ab ab").ancestors() == {"a": frozenset(), "b": frozenset("a")}


def test_ancestors_are_defined_even_with_a_cycle() -> None:
    ancestors = _graph("abcd", "ab bc cb cd").ancestors()
    assert ancestors["a"] == frozenset()
    assert ancestors["b"] == frozenset("abc")
    assert ancestors["c"] == frozenset("abc")
    assert ancestors["d"] == frozenset("abc")


def test_long_chains_do_not_exhaust_the_stack() -> None:
    ids = [f"n{i}" for i in range(2000)]  # twice the recursion limit
    chain = list(itertools.pairwise(ids))
    graph = Graph.build(ids, chain)
    assert graph.cycles() == []
    assert len(graph.ancestors()["n1999"]) == 1999
    looped = Graph.build(ids, [*chain, ("n1999", "n0")])
    (cycle,) = looped.cycles()
    assert len(cycle) == 2001
