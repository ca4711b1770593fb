"""The workflow language itself, free of Temporal.

- ``definition``: the pydantic models of a definition (DSL v1, docs/DSL.md).
- ``durations``: ``"500ms"``, ``"30s"``, ``"5m"`` ... as timedeltas.
- ``expressions``: CEL, compiled once and evaluated with clear errors.
- ``holes``: ``{{ cel }}`` holes inside JSON values (not to be confused with
  workflow templates, which live in ``app/templates``).
- ``graph``: the DAG's shape: adjacency, cycles, ancestors.
- ``pointer``: JSON pointers, how every error names its place.
- ``node_config``: the base of every node's config model.
"""
