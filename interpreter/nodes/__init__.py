"""Node types: one unit per type (config model, checks, evaluation), and the registry."""
