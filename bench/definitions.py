"""The benchmarks' FlowForge definitions: chains, fan-outs and diamonds of http calls.

Every benchmark that runs FlowForge builds its definitions here, so a change to
the DSL breaks one module (and its fast test), not each benchmark.
"""

from __future__ import annotations

from typing import Any


def http(node_id: str, url: str) -> dict[str, Any]:
    return {"id": node_id, "type": "http", "config": {"method": "GET", "url": url}}


def sequential(url: str, count: int) -> dict[str, Any]:
    nodes = [http(f"n{i}", url) for i in range(count)]
    edges = [{"from": f"n{i}", "to": f"n{i + 1}"} for i in range(count - 1)]
    return {
        "name": "seq",
        "nodes": nodes,
        "edges": edges,
        "output": f"{{{{ nodes.n{count - 1}.output.status }}}}",
    }


def fan_out(url: str, width: int) -> dict[str, Any]:
    nodes = [http(f"n{i}", url) for i in range(width)]
    # The join reads every answer; a list of them, not their sum: the expression
    # cost limit prices a chain of 100 additions far higher than a list of 100.
    statuses = ", ".join(f"nodes.n{i}.output.status" for i in range(width))
    nodes.append(
        {"id": "join", "type": "transform", "config": {"value": f"{{{{ [{statuses}] }}}}"}}
    )
    edges = [{"from": f"n{i}", "to": "join"} for i in range(width)]
    return {
        "name": "fan",
        "max_concurrency": width,
        "nodes": nodes,
        "edges": edges,
        "output": "{{ nodes.join.output }}",
    }


def diamond(url: str, middle: int) -> dict[str, Any]:
    nodes = [http("top", url), *(http(f"m{i}", url) for i in range(middle)), http("bottom", url)]
    edges = [{"from": "top", "to": f"m{i}"} for i in range(middle)]
    edges += [{"from": f"m{i}", "to": "bottom"} for i in range(middle)]
    return {
        "name": "diamond",
        "nodes": nodes,
        "edges": edges,
        "output": "{{ nodes.bottom.output.status }}",
    }
