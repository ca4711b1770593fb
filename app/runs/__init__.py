"""Runs as services, free of HTTP: pinning, starting, reading, access, operator updates."""
