"""An HTTP activity wired like a worker's, on the suite's guarded client."""

from __future__ import annotations

import httpx
import pytest

from interpreter.activities import HttpActivity, HttpSettings


@pytest.fixture
def http(http_client: httpx.AsyncClient) -> HttpActivity:
    return HttpActivity(http_client, HttpSettings(max_redirects=3))
