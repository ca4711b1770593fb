"""Errors the CRUD functions raise for conflicts a caller can act on."""

from __future__ import annotations


class AlreadyExists(Exception):
    """A unique name is taken; the message names it and says what to do."""
