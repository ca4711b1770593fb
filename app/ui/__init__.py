"""The browser dashboard: static ES modules and CSS served at ``/ui`` (no build step)."""
