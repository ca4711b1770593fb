"""Plugins: versioned script code that ``script`` nodes name instead of carrying it.

A node writes ``"plugin": "name@1.2.0"`` (or a range such as ``name@^1.2``);
the API resolves it among the workflow owner's plugins when a run starts and
pins the code and schemas into the run's definition, so a run never reads
the store and a later version never changes a run in flight.
"""
