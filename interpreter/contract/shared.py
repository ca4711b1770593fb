"""Parsed parts of a run's input that every run with the same content shares.

Each run the worker holds decodes its ``RunInput`` from its payload, and with
it the pinned definition and the run options: for a one-node definition
about 6.5 KiB of pydantic models, a parked run's largest part. Runs of the
same workflow version carry the very same definition, and nearly every run
the same options, so the worker keeps one parsed copy of each, keyed by the
sha256 of the decoded JSON (sorted keys): a run whose definition was parsed
before takes that copy instead of parsing its own.

Sharing is sound because nothing changes these models once parsed: the
runtime reads them and makes copies (``model_copy``) where it needs another
value (an operator's retry with a patched config); ``tests/interpreter/workflow/
test_sandbox.py`` checks that runs leave the shared copies as parsed. They
are the same value whichever run parsed them first, so replay sees what a
fresh parse would give. Only values decoded from JSON (dicts) are shared; a
model handed in as a model (the API building a ``RunInput``) is its own.

The cache holds at most ``FLOWFORGE_SHARED_DEFINITIONS`` values of each
kind, the least recently used evicted first; 0 parses every run's own.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from typing import Any

from pydantic import BaseModel, ValidatorFunctionWrapHandler, WrapValidator

DEFAULT_SIZE = 256
"""Values of each kind kept when the worker sets none (``FLOWFORGE_SHARED_DEFINITIONS``)."""


class SharedModels:
    """A bounded, thread-safe LRU of parsed models by the digest of their JSON.

    Workflow tasks decode payloads on the worker's workflow threads, so every
    lookup holds a lock.
    """

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._lock = threading.Lock()
        self._size = size
        self._kinds: dict[str, OrderedDict[bytes, BaseModel]] = {}

    @property
    def size(self) -> int:
        """The most values of each kind kept (0: none)."""
        return self._size

    def resize(self, size: int) -> None:
        """Keep at most ``size`` values of each kind from now on (0: share none)."""
        if size < 0:
            raise ValueError(f"shared definitions: size must be >= 0, not {size}")
        with self._lock:
            self._size = size
            for models in self._kinds.values():
                while len(models) > size:
                    models.popitem(last=False)

    def clear(self) -> None:
        """Forget every shared value."""
        with self._lock:
            self._kinds.clear()

    def entries(self, kind: str) -> list[tuple[bytes, BaseModel]]:
        """The shared values of ``kind`` by :func:`digest`, oldest first (for tests)."""
        with self._lock:
            return list(self._kinds.get(kind, {}).items())

    def shared(self, kind: str, value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        """``handler(value)``, or the model an equal ``value`` (a decoded dict) parsed to."""
        if not self._size or not isinstance(value, dict):
            return handler(value)
        try:
            key = digest(value)
        except (TypeError, ValueError):  # not JSON (a Python-mode input): not shared
            return handler(value)
        with self._lock:
            models = self._kinds.setdefault(kind, OrderedDict())
            model = models.get(key)
            if model is not None:
                models.move_to_end(key)
                return model
        model = handler(value)  # a validation error leaves nothing behind
        with self._lock:
            model = models.setdefault(key, model)  # another thread may have parsed it too
            models.move_to_end(key)
            while len(models) > self._size:
                models.popitem(last=False)
        return model


def digest(value: dict[str, Any]) -> bytes:
    """sha256 of ``value`` as JSON with sorted keys: what :class:`SharedModels` keys by.

    Raises:
        TypeError, ValueError: ``value`` is not JSON.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).digest()


SHARED = SharedModels()
"""The process's one cache (``worker.runtime.create_worker`` sizes it from its settings)."""


def shared_as(kind: str) -> WrapValidator:
    """A field's validator that takes a decoded value's model from :data:`SHARED`.

    ``Annotated[Definition, shared_as("definition")]``: serialization and the
    JSON schema stay those of the model.
    """

    def share(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        return SHARED.shared(kind, value, handler)

    return WrapValidator(share)
