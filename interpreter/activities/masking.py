"""Keeping secret values out of what an activity returns and raises.

An upstream may echo a credential back (in a body, a header, an error page),
and error messages quote URLs and bodies; whatever leaves the activity is
stored in Temporal history, shown by the API and logged, so each secret
value used by the attempt is replaced by ``***`` on the way out.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from interpreter.errors import NodeFailure

MASK = "***"

_URL_SAFE = "!$&'()*+,;=:@/?~"


class Masker:
    """Replaces every occurrence of some secret values with :data:`MASK`.

    Each value is also looked for as it appears inside a JSON string and
    percent-encoded in a URL, the forms echoes and error messages carry it in.
    Values of other shapes (base64 inside a Basic credential, hashes) are not
    recognised.

    Args:
        values: The secret values; empty ones are ignored.
    """

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in values:
            if value:
                forms |= {
                    value,
                    json.dumps(value)[1:-1],
                    json.dumps(value, ensure_ascii=False)[1:-1],
                    quote(value, safe=""),
                    quote_plus(value),
                    # As httpx writes it into a URL: only what a URL cannot hold is encoded.
                    quote(value, safe=_URL_SAFE),
                }
        # Longest first, so a value that contains another is masked whole.
        alternatives = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, alternatives))) if forms else None

    def text(self, text: str) -> str:
        """``text`` with every secret value replaced."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def value(self, value: Any) -> Any:
        """A JSON value with every string (and mapping key) masked."""
        if self._pattern is None:
            return value
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.value(k): self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(item) for item in value]
        return value

    @contextlib.contextmanager
    def failures(self) -> Iterator[None]:
        """Mask the message and details of whatever the block raises.

        A :class:`NodeFailure` keeps its type (it decides retries); any other
        error that would quote a secret becomes a ``RuntimeError`` with the
        masked text, without the original attached.
        """
        try:
            yield
        except NodeFailure as failure:
            failure.args = (self.text(str(failure)),)
            failure.details = self.value(failure.details)
            raise
        except Exception as exc:
            text = str(exc)
            masked = self.text(text)
            if masked != text:
                raise RuntimeError(f"{type(exc).__name__}: {masked}") from None
            raise
