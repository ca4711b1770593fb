"""``flowforge dev``: Temporal, PostgreSQL, a worker and the API in one command, for development."""
