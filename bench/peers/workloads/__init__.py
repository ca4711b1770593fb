"""One module per engine: its own idiomatic version of the two workloads.

Each runs in that engine's environment (``.bench/<engine>/``) and imports only
the engine, httpx and ``bench.peers.harness``.
"""
