"""FlowForge's API service: definitions in PostgreSQL, runs started and steered on Temporal."""
