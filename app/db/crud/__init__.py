"""Keyword-only data access functions, one module per table family."""
