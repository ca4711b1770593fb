"""Node types: their config models and, for pure nodes, their evaluation."""
