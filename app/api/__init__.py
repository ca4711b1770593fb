"""The REST API: routers, dependencies, error handling, middleware."""
