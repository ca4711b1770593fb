"""The code's layout holds: imports point one way and no two packages import each other.

``app -> interpreter <- worker``; inside each, a package may lean on another
only if that one does not lean back, however indirectly. Services (everything
in ``app`` outside ``app/api``) are free of the web framework, so they can be
called from a CLI, a workflow starter or a test without a request.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

ROOT = Path(__file__).parents[1]
TOP = ("app", "interpreter", "worker")
WEB = ("fastapi", "starlette", "sse_starlette")
SQL = ("sqlalchemy", "sqlmodel", "asyncpg", "alembic")


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for top in TOP:
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "versions" in parts:  # Alembic revisions are data, not code
                continue
            name = ".".join(parts).removesuffix(".__init__")
            found[name] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> Iterator[str]:
    """Every absolute name a module imports (``from a import b`` yields ``a`` and ``a.b``)."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def _unit(module: str) -> str:
    """The unit a module belongs to: its package, or itself when it sits at a top level."""
    if MODULES[module].name == "__init__.py":
        return module
    parent = module.rpartition(".")[0]
    return module if "." not in parent else parent


def _unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        source = _unit(module)
        for name in _imports(path):
            if name not in MODULES:
                continue
            target = _unit(name)
            # A package importing its own subpackages is how packages are built.
            if target != source and not target.startswith(source + "."):
                graph.setdefault(source, set()).add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one unit (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(unit: str) -> None:
        index[unit] = low[unit] = len(index)
        stack.append(unit)
        on_stack.add(unit)
        for other in sorted(graph.get(unit, ())):
            if other not in index:
                visit(other)
                low[unit] = min(low[unit], low[other])
            elif other in on_stack:
                low[unit] = min(low[unit], index[other])
        if low[unit] == index[unit]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == unit:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for unit in sorted(graph):
        if unit not in index:
            visit(unit)
    return found


def _importers_of(prefixes: tuple[str, ...], where: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, path in MODULES.items()
        if module.startswith(where)
        for name in _imports(path)
        if name.split(".")[0] in prefixes or name.startswith(tuple(p + "." for p in prefixes))
    )


def test_no_two_packages_import_each_other() -> None:
    assert _cycles(_unit_graph()) == []


LAYERS: dict[str, frozenset[str]] = {
    "interpreter.errors": frozenset(),
    "interpreter.dsl": frozenset({"interpreter.errors"}),
    "interpreter.run_proof": frozenset(
        {"interpreter.dsl", "interpreter.errors", "interpreter.secret_box"}
    ),
    "interpreter.contract": frozenset(
        {"interpreter.dsl", "interpreter.errors", "interpreter.run_proof"}
    ),
    "interpreter.egress": frozenset({"interpreter.errors"}),
    "interpreter.secret_box": frozenset({"interpreter.errors"}),
    "interpreter.settings": frozenset(
        {"interpreter.secret_box", "interpreter.contract", "interpreter.run_proof"}
    ),
    "interpreter.logs": frozenset({"interpreter.contract"}),
    "interpreter.activities": frozenset(
        {"interpreter.dsl", "interpreter.egress", "interpreter.errors", "interpreter.run_proof"}
    ),
    "interpreter.nodes": frozenset(
        {
            "interpreter.activities",
            "interpreter.contract",
            "interpreter.dsl",
            "interpreter.errors",
            "interpreter.run_proof",
        }
    ),
    "interpreter.validation": frozenset(
        {"interpreter.nodes", "interpreter.dsl", "interpreter.errors"}
    ),
    "interpreter.runtime": frozenset(
        {
            "interpreter.nodes",
            "interpreter.activities",
            "interpreter.contract",
            "interpreter.dsl",
            "interpreter.errors",
            "interpreter.run_proof",
        }
    ),
}
"""Each part of the interpreter and what it may import, as docs/ARCHITECTURE.md lists them."""


def _layer(unit: str) -> str | None:
    matches = [key for key in LAYERS if unit == key or unit.startswith(key + ".")]
    return max(matches, key=len) if matches else None


def test_each_part_of_the_interpreter_imports_only_the_parts_below_it() -> None:
    crossing = []
    for source, targets in _unit_graph().items():
        if not source.startswith("interpreter."):
            continue
        layer = _layer(source)
        assert layer is not None, f"{source} is in no layer: add it to LAYERS and the docs"
        for target in targets:
            other = _layer(target)
            if other is not None and other != layer and other not in LAYERS[layer]:
                crossing.append(f"{source} -> {target}")
    assert crossing == []


def test_the_interpreter_imports_neither_the_api_nor_the_worker() -> None:
    assert _importers_of(("app", "worker"), ("interpreter",)) == []


def test_the_worker_never_imports_the_api() -> None:
    assert _importers_of(("app",), ("worker",)) == []


def test_services_are_free_of_http() -> None:
    services = tuple(f"app.{name}" for name in ("runs", "workflows", "triggers", "db", "templates"))
    services += ("app.errors", "app.ownership", "app.security", "app.settings")
    assert _importers_of((*WEB, "app.api"), services) == []


def test_the_interpreter_and_worker_need_no_web_framework_and_no_orm() -> None:
    assert _importers_of((*WEB, *SQL[:2]), ("interpreter", "worker")) == []


def test_the_check_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
