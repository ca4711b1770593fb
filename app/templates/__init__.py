"""Workflow templates: placeholders, parameters, and the built-in templates."""
