"""``flowforge dev`` as ``make dev`` runs it: up, answering, and gone without a trace on SIGTERM.

Each stack gets its own data directory and free ports, so it never meets a
developer's running stack or another test's.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.support.ports import free_block, free_ports

pytestmark = pytest.mark.slow

READY_WITHIN = 120.0
STOP_WITHIN = 15.0
API = "/api/v1"
HELLO = {
    "dsl_version": 1,
    "name": "hello",
    "nodes": [
        {"id": "greet", "type": "transform", "config": {"value": {"hi": "Hi {{ input.name }}"}}},
        {"id": "say", "type": "log", "config": {"message": "{{ nodes.greet.output.hi }}"}},
    ],
    "edges": [{"from": "greet", "to": "say"}],
    "output": "{{ nodes.greet.output }}",
}


def flowforge() -> list[str]:
    """The console script ``make dev`` runs, or the same entry point through ``-m``."""
    script = Path(sys.executable).parent / "flowforge"
    return [str(script)] if script.exists() else [sys.executable, "-m", "app.cli"]


@dataclass
class Stack:
    process: asyncio.subprocess.Process
    log: Path
    api: str
    ui: str
    data_dir: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


async def wait_ready(stack: Stack) -> None:
    deadline = time.monotonic() + READY_WITHIN
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            assert stack.process.returncode is None, f"flowforge dev exited:\n{stack.output()}"
            try:
                ready = (await client.get(f"{stack.api}/readyz")).status_code == 200
                if ready and "FlowForge is up" in stack.output():
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.25)
    raise AssertionError(f"/readyz not 200 within {READY_WITHIN:g} s:\n{stack.output()}")


def descendants(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


async def stop(stack: Stack) -> int:
    """SIGTERM, as ``kill`` or a process manager sends; the exit code, within the limit."""
    started = time.monotonic()
    stack.process.send_signal(signal.SIGTERM)
    code = await asyncio.wait_for(stack.process.wait(), STOP_WITHIN)
    assert time.monotonic() - started < STOP_WITHIN
    return code


def assert_nothing_survives(children: list[psutil.Process]) -> None:
    """No child is left, nor anything in the children's process groups."""
    groups = {_pgid(p) for p in children} - {None}
    survivors = [p for p in children if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], f"still running after flowforge dev exited: {survivors}"
    in_groups = [p for p in psutil.process_iter() if _pgid(p) in groups]
    assert in_groups == [], f"left in the children's process groups: {in_groups}"


def _pgid(process: psutil.Process) -> int | None:
    try:
        return os.getpgid(process.pid)
    except ProcessLookupError:
        return None


@asynccontextmanager
async def dev_stack(tmp_path: Path, data_dir: Path, **env: str) -> AsyncIterator[Stack]:
    api_port, temporal_port, ui_port, metrics_port = free_ports(4)
    environment = {
        # Never the developer's own demo API on 9001-9005.
        "FLOWFORGE_DEMO_API_BASE_PORT": str(free_block(5)),
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLOWFORGE_", "DATABASE_"))},
        "FLOWFORGE_DATA_DIR": str(data_dir),
        "FLOWFORGE_API_PORT": str(api_port),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "FLOWFORGE_TEMPORAL_UI_PORT": str(ui_port),
        "FLOWFORGE_METRICS_PORT": str(metrics_port),
        **env,
    }
    log = tmp_path / f"dev-{uuid.uuid4().hex[:6]}.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *flowforge(), "dev", env=environment, stdout=sink, stderr=asyncio.subprocess.STDOUT
        )
    stack = Stack(
        process, log, f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{ui_port}", data_dir
    )
    try:
        await wait_ready(stack)
        children = descendants(process.pid)
        assert len(children) >= 3, f"expected Temporal, worker and API under it: {children}"
        yield stack
        if process.returncode is None:
            assert await stop(stack) == 0, stack.output()
        assert_nothing_survives(children)
    finally:
        if process.returncode is None:  # a failed assertion: leave nothing running
            for child in descendants(process.pid):
                child.kill()
            process.kill()
            await process.wait()


async def login(client: httpx.AsyncClient, stack: Stack) -> dict[str, str]:
    password = (stack.data_dir / "admin_password").read_text().strip()
    answer = await client.post(
        f"{stack.api}{API}/auth/token", data={"username": "admin", "password": password}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


async def wait_run(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = (await client.get(url, headers=headers)).json()
        if run["status"] not in ("running", "pending"):
            return dict(run)
        await asyncio.sleep(0.25)
    raise AssertionError(f"run still running after 60 s: {run}")


async def test_a_second_start_finds_the_same_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    async with dev_stack(tmp_path, data_dir) as first, httpx.AsyncClient(timeout=10) as client:
        password_file = data_dir / "admin_password"
        assert password_file.stat().st_mode & 0o777 == 0o600
        assert password_file.read_text().strip() in first.output()
        headers = await login(client, first)
        created = await client.post(
            f"{first.api}{API}/workflows", json={"definition": HELLO}, headers=headers
        )
        assert created.status_code == 201, created.text
        workflow_id = created.json()["id"]
        started = await client.post(
            f"{first.api}{API}/workflows/{workflow_id}/runs",
            json={"input": {"name": "Ada"}},
            headers=headers,
        )
        assert started.status_code == 202, started.text
        run_url = f"{first.api}{API}/runs/{started.json()['run_id']}"
        run = await wait_run(client, run_url, headers)
        assert run["status"] == "succeeded", run

    assert (data_dir / "temporal.db").exists()
    assert (data_dir / "pg" / "PG_VERSION").exists()
    async with dev_stack(tmp_path, data_dir) as second, httpx.AsyncClient(timeout=10) as client:
        assert password_file.read_text().strip() not in second.output()
        headers = await login(client, second)
        listed = await client.get(f"{second.api}{API}/workflows", headers=headers)
        assert [w["id"] for w in listed.json()["items"]] == [workflow_id]
        again = await client.get(run_url.replace(first.api, second.api), headers=headers)
        assert again.json()["status"] == "succeeded"
        assert again.json()["output"] == {"hi": "Hi Ada"}


async def test_a_child_that_dies_stops_the_rest(database_url: str, tmp_path: Path) -> None:
    admin = f"smoke-{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": database_url, "FLOWFORGE_ADMIN_USERNAME": admin}
    async with dev_stack(tmp_path, tmp_path / "data", **env) as stack:
        (api,) = [p for p in descendants(stack.process.pid) if "uvicorn" in p.cmdline()]
        api.kill()
        code = await asyncio.wait_for(stack.process.wait(), STOP_WITHIN)
        assert code == 1
        assert "api was killed by SIGKILL unexpectedly" in stack.output()


EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"


def example(name: str, base_port: int) -> dict[str, object]:
    """An example definition, calling the demo API on ``base_port`` instead of 9001."""
    text = (EXAMPLES / f"{name}.json").read_text()
    for offset in range(5):
        text = text.replace(f"127.0.0.1:{9001 + offset}", f"127.0.0.1:{base_port + offset}")
    loaded: dict[str, object] = json.loads(text)
    return loaded


async def test_the_stack_answers_and_the_examples_succeed_then_fail_and_retry(
    database_url: str, tmp_path: Path
) -> None:
    base = free_block(5)
    async with (
        dev_stack(
            tmp_path,
            tmp_path / "data",
            DATABASE_URL=database_url,
            FLOWFORGE_DEMO_API_BASE_PORT=str(base),
        ) as stack,
        httpx.AsyncClient(timeout=10) as client,
    ):
        # The stack answers on every front; that it stops without leftovers is
        # checked as dev_stack ends (one start of the stack for both: each costs ~20 s).
        assert (await client.get(f"{stack.api}/healthz")).status_code == 200
        assert (await client.get(stack.ui)).status_code == 200
        assert (await client.get(f"{stack.api}/docs")).status_code == 200
        assert f"Demo API:        http://127.0.0.1:{base}" in stack.output()
        headers = await login(client, stack)
        secret = {"name": "hook_key", "value": "demo-signing-key"}
        assert (
            await client.post(f"{stack.api}{API}/secrets", json=secret, headers=headers)
        ).is_success

        workflows: dict[str, str] = {}

        async def run(name: str, run_input: dict[str, object]) -> dict[str, Any]:
            if name not in workflows:
                made = await client.post(
                    f"{stack.api}{API}/workflows",
                    json={"definition": example(name, base)},
                    headers=headers,
                )
                assert made.status_code == 201, made.text
                workflows[name] = made.json()["id"]
            started = await client.post(
                f"{stack.api}{API}/workflows/{workflows[name]}/runs",
                json={"input": run_input},
                headers=headers,
            )
            assert started.status_code == 202, started.text
            url = f"{stack.api}{API}/runs/{started.json()['run_id']}"
            return await wait_run(client, url, headers)

        order = await run("order-fulfilment", {"order_id": "o-1", "amount": 42})
        assert order["status"] == "succeeded", order
        assert order["output"]["shipped"] is True
        assert str(order["output"]["charge_id"]).startswith("ch_")
        users = await run("enrich-users", {"page": 1})
        assert users["status"] == "succeeded", users
        assert {u["plan"] for u in users["output"]} <= {"pro", "team"}
        deliveries = await client.get(f"http://127.0.0.1:{base + 3}/deliveries")
        assert len(deliveries.json()["deliveries"]) == 1
        expense = await run("expense-approval", {"amount": 20, "employee": "ada"})
        assert expense["status"] == "succeeded", expense

        # Payments fails twice, then answers: the run retries and still succeeds.
        failing = await client.put(f"http://127.0.0.1:{base + 1}/_demo", json={"fail_next": 2})
        assert failing.json()["switches"]["fail_next"] == 2
        retried = await run("order-fulfilment", {"order_id": "o-2", "amount": 42})
        assert retried["status"] == "succeeded", retried
        charge = next(n for n in retried["nodes"] if n["id"] == "charge")
        assert charge["attempts"] == 3
        # flowforge dev logs for people: each failed attempt is one line, no traceback.
        failed = [line for line in stack.output().splitlines() if "activity as failed" in line]
        assert len(failed) >= 2, stack.output()
        assert all("run=" in line and "node=charge" in line for line in failed[-2:])
        assert "Traceback (most recent call last)" not in stack.output()


async def test_a_taken_port_is_named_with_its_setting_before_anything_starts(
    tmp_path: Path,
) -> None:
    api_port, temporal_port, ui_port, metrics_port = free_ports(4)
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("FLOWFORGE_", "DATABASE_"))},
        "FLOWFORGE_DATA_DIR": str(tmp_path / "data"),
        "FLOWFORGE_API_PORT": str(api_port),
        "TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
        "FLOWFORGE_TEMPORAL_UI_PORT": str(ui_port),
        "FLOWFORGE_METRICS_PORT": str(metrics_port),
        "FLOWFORGE_DEMO_API": "false",
    }
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", temporal_port))
        taken.listen()
        process = await asyncio.create_subprocess_exec(
            *flowforge(),
            "dev",
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    text = output.decode(errors="replace")
    assert process.returncode == 1, text
    assert f"127.0.0.1:{temporal_port} (Temporal) is already in use" in text
    assert "set TEMPORAL_ADDRESS" in text
    assert "panic" not in text
    assert not (tmp_path / "data" / "temporal.db").exists()
