"""`flowforge dev` with FLOWFORGE_DEV_NATS: a JetStream server from the wheel, told to the API."""

from __future__ import annotations

import socket
from pathlib import Path

import nats

from app.devstack.ports import busy_port_problems
from app.devstack.settings import DevSettings
from app.devstack.supervisor import DevStack
from tests.support.ports import free_ports


async def test_the_dev_stack_starts_nats_with_jetstream_and_tells_the_api(tmp_path: Path) -> None:
    (port,) = free_ports(1)
    stack = DevStack(DevSettings(dev_nats=True, dev_nats_port=port, data_dir=str(tmp_path)))
    try:
        env = await stack._nats()
        assert env["FLOWFORGE_NATS_URL"] == f"nats://127.0.0.1:{port}"
        assert f"NATS=127.0.0.1:{port}" in env["FLOWFORGE_STACK_ADDRESSES"].split(",")
        client = await nats.connect(env["FLOWFORGE_NATS_URL"])
        try:
            info = await client.jetstream().account_info()
            assert info.streams == 0
        finally:
            await client.close()
        assert (tmp_path / "nats").is_dir()
    finally:
        await stack.shutdown()
    assert [child.name for child in stack.children] == ["nats"]
    assert stack.children[0].process.returncode is not None


def test_a_taken_nats_port_names_its_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        problems = busy_port_problems(DevSettings(dev_nats=True, dev_nats_port=port))
    assert any("FLOWFORGE_DEV_NATS_PORT" in problem for problem in problems), problems
    assert not any(
        "FLOWFORGE_DEV_NATS_PORT" in problem
        for problem in busy_port_problems(DevSettings(dev_nats_port=port))
    )
