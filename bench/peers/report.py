"""Medians of every engine's runs, and their ratios to FlowForge via REST, as a Markdown table."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from bench.peers.engines import BASELINE, EngineSpec


@dataclass
class Collected:
    """Every figure of one engine over all rounds, and why rounds failed."""

    sequential: list[float] = field(default_factory=list)
    fan_out: list[float] = field(default_factory=list)
    throughput: dict[str, list[float]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, figures: dict[str, Any]) -> None:
        self.sequential += figures["sequential"]
        self.fan_out += figures["fan_out"]
        for clients, rate in figures["throughput"].items():
            self.throughput.setdefault(clients, []).append(rate)


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _cell(value: float | None, base: float | None, unit: str) -> str:
    if value is None:
        return "-"
    shown = f"{value * 1000:,.0f} ms" if unit == "ms" else f"{value:.1f}"
    if base:
        shown += f" ({value / base:.2f}x)"
    return shown


def table(engines: list[EngineSpec], collected: dict[str, Collected], clients: list[int]) -> str:
    """One row per engine; each cell the median and, in brackets, engine / FlowForge-REST.

    Below 1x a time is faster than FlowForge via REST; above 1x a rate is higher.
    """
    base = collected.get(BASELINE, Collected())
    header = ["engine", "20 sequential http calls", "100-wide fan-out, join"]
    header += [f"3-node runs/s, {n} clients" for n in clients]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for engine in engines:
        got = collected.get(engine.name, Collected())
        row = [
            engine.label,
            _cell(_median(got.sequential), _median(base.sequential), "ms"),
            _cell(_median(got.fan_out), _median(base.fan_out), "ms"),
        ]
        for n in clients:
            key = str(n)
            row.append(
                _cell(
                    _median(got.throughput.get(key, [])),
                    _median(base.throughput.get(key, [])),
                    "runs/s",
                )
            )
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def guarantees(engines: list[EngineSpec]) -> str:
    lines = ["| engine | what it guarantees |", "|---|---|"]
    seen: set[str] = set()
    for engine in engines:
        if engine.guarantees not in seen:
            seen.add(engine.guarantees)
            lines.append(f"| {engine.label} | {engine.guarantees} |")
    return "\n".join(lines)
