"""Alembic migration scripts of the FlowForge database (run them with ``app.db.migrations``)."""
