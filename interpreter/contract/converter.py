"""Pydantic payload conversion with one TypeAdapter cache per process.

``temporalio.contrib.pydantic`` caches TypeAdapters per converter, and the
worker builds a new payload converter for every workflow run it holds, so
each run built its own adapters for ``RunInput``, ``ActivityResult`` and the
rest again (pydantic compiles a validator per adapter). A TypeAdapter is
immutable once built and depends only on its type, so one cache serves
every run and every thread; the types are the same objects in every run
because the interpreter's modules pass through the workflow sandbox.
"""

from __future__ import annotations

import functools
from typing import Any

from pydantic import TypeAdapter
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
)

MAX_CACHED_ADAPTERS = 1024
"""Type hints whose adapters stay cached, least recently used evicted first."""

_ADAPTERS: functools._lru_cache_wrapper[TypeAdapter[Any]] = functools.lru_cache(
    maxsize=MAX_CACHED_ADAPTERS
)(TypeAdapter)


class _SharedAdapterJSONConverter(PydanticJSONPlainPayloadConverter):
    def __init__(self) -> None:
        super().__init__(max_cached_type_adapters=0)
        # The SDK's converter looks adapters up through this attribute only.
        self._type_adapter = _ADAPTERS


class SharedAdapterPayloadConverter(CompositePayloadConverter):
    """``PydanticPayloadConverter`` with its TypeAdapters cached once per process."""

    def __init__(self) -> None:
        super().__init__(
            *(
                _SharedAdapterJSONConverter()
                if isinstance(converter, JSONPlainPayloadConverter)
                else converter
                for converter in DefaultPayloadConverter.default_encoding_payload_converters
            )
        )
