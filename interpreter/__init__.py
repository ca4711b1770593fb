"""FlowForge's DSL and its Temporal interpreter."""
