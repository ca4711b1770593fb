"""FlowForge against the engines a user could pick instead (``python -m bench.peers``)."""
