"""Keeping secret values out of what an activity returns and raises.

An upstream may echo a credential back (in a body, a header, an error page),
and error messages quote URLs and bodies; whatever leaves the activity is
stored in Temporal history, shown by the API and logged, so each secret
value used by the attempt is replaced by ``***`` on the way out.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from interpreter.errors import NodeFailure

MASK = "***"

_URL_SAFE = "!$&'()*+,;=:@/?~"
_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def encoded_forms(value: str) -> set[str]:
    """The texts ``value`` may appear as in what leaves an activity.

    A CEL ``bytes()`` result is written as base64, URLs percent-encode, and
    an upstream may echo any of base64, base64url or hex back; each of those
    may then sit inside a JSON string (with ``/`` escaped or not).
    """
    raw = value.encode()
    b64 = base64.b64encode(raw).decode()
    b64url = base64.urlsafe_b64encode(raw).decode()
    percent = {
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        # As httpx writes it into a URL: only what a URL cannot hold is encoded.
        quote(value, safe=_URL_SAFE),
    }
    # Some encoders write the escapes' hex digits in lower case.
    percent |= {_ESCAPE.sub(lambda m: m.group().lower(), form) for form in percent}
    forms = {
        value,
        b64,
        b64.rstrip("="),
        b64url,
        b64url.rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        *percent,
    }
    in_json = set()
    for form in forms:
        for ensure_ascii in (True, False):
            escaped = json.dumps(form, ensure_ascii=ensure_ascii)[1:-1]
            in_json |= {escaped, escaped.replace("/", "\\/")}
    return forms | in_json


class Masker:
    """Replaces every occurrence of some secret values with :data:`MASK`.

    Each value is also looked for in the forms echoes, error messages and
    encoders carry it in (see :func:`encoded_forms`): JSON-escaped,
    percent-encoded, base64 and base64url (padded or not) and hex, and each of
    those inside a JSON string. Values of other shapes (a value base64-encoded
    together with other text, as in a Basic credential; hashes) are not
    recognised.

    Args:
        values: The secret values; empty ones are ignored.
    """

    def __init__(self, values: Iterable[str]) -> None:
        forms: set[str] = set()
        for value in values:
            if value:
                forms |= encoded_forms(value)
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
