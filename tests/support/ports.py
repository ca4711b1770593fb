"""Free ports for servers the tests start as separate processes."""

from __future__ import annotations

import random
import socket


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports free on 127.0.0.1 right now."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


def free_block(count: int) -> int:
    """The first of ``count`` consecutive free ports (the demo API's five services)."""
    for _ in range(100):
        first = random.randrange(20_000, 60_000)
        probes: list[socket.socket] = []
        try:
            for port in range(first, first + count):
                probe = socket.socket()
                probes.append(probe)
                probe.bind(("127.0.0.1", port))
            return first
        except OSError:
            continue
        finally:
            for probe in probes:
                probe.close()
    raise AssertionError(f"no {count} consecutive free ports found")
