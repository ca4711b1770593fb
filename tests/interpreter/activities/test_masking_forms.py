"""Each secret value is masked in every form it may come back in: encoded, escaped, in JSON."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from urllib.parse import quote, quote_plus

import pytest

from interpreter.activities.masking import MASK, Masker

pytestmark = pytest.mark.fast

VALUE = "s3cr/t+k?y=1&\u00e9~"
"""A slash, a plus, URL delimiters and a non-ASCII letter: every encoding changes it."""


def _b64(value: str) -> str:
    return base64.b64encode(value.encode()).decode()


def _b64url(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


FORMS: dict[str, Callable[[str], str]] = {
    "raw": lambda v: v,
    "base64": _b64,
    "base64 unpadded": lambda v: _b64(v).rstrip("="),
    "base64url": _b64url,
    "base64url unpadded": lambda v: _b64url(v).rstrip("="),
    "hex": lambda v: v.encode().hex(),
    "HEX": lambda v: v.encode().hex().upper(),
    "percent": lambda v: quote(v, safe=""),
    "percent lower-case": lambda v: re.sub("%[0-9A-F]{2}", lambda m: m[0].lower(), quote(v, "")),
    "quote": quote,
    "quote_plus": quote_plus,
}


@pytest.mark.parametrize("value", [VALUE, "ab?c", "x"])
@pytest.mark.parametrize("form", sorted(FORMS))
def test_every_encoded_form_is_masked(value: str, form: str) -> None:
    encoded = FORMS[form](value)
    masker = Masker([value])

    assert masker.text(f"got <{encoded}> back") == f"got <{MASK}> back"


@pytest.mark.parametrize("form", sorted(FORMS))
@pytest.mark.parametrize("ensure_ascii", [True, False])
def test_every_form_is_masked_inside_a_json_string(form: str, ensure_ascii: bool) -> None:
    encoded = FORMS[form](VALUE)
    text = json.dumps({"echo": f"key={encoded}"}, ensure_ascii=ensure_ascii)

    assert Masker([VALUE]).text(text) == json.dumps({"echo": f"key={MASK}"})


def test_a_json_string_with_escaped_slashes_is_masked() -> None:
    text = '{"echo": "' + _b64("a/?>b" * 3).replace("/", "\\/") + '"}'

    assert Masker(["a/?>b" * 3]).text(text) == '{"echo": "' + MASK + '"}'


def test_outputs_and_error_details_mask_every_form() -> None:
    masker = Masker([VALUE])
    output = {
        "headers": {"x-echo": _b64(VALUE)},
        "body": [VALUE.encode().hex(), {quote_plus(VALUE): _b64url(VALUE).rstrip("=")}],
    }

    assert masker.value(output) == {"headers": {"x-echo": MASK}, "body": [MASK, {MASK: MASK}]}
