"""Browser fixtures: the API on a real port, the session's worker, one Chromium.

The app's fixtures (settings on the session's migrated database and Temporal,
the interpreter worker) are those of tests/app; the API is a second app on the
same settings, served by uvicorn so the browser reaches it over HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.app.conftest import migrated_url, settings, temporal_address, worker
from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME, API, served_by_uvicorn
from tests.support.browser import launch_options, skip_reason

__all__ = ["migrated_url", "settings", "temporal_address", "worker"]

_SKIP = skip_reason()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if _SKIP is None:
        return
    marker = pytest.mark.skip(reason=_SKIP)
    for item in items:
        if "tests/browser" in str(item.path):
            item.add_marker(marker)


def pytest_report_header(config: pytest.Config) -> str:
    return _SKIP or f"browser tests: {launch_options()['executable_path']}"


@pytest.fixture(scope="session")
def base_url(settings: Settings) -> Iterator[str]:
    """The API (and its dashboard at /ui) served by uvicorn on a free port."""
    with served_by_uvicorn(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="session")
async def api(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the served API, signed in as the first admin."""
    async with httpx.AsyncClient(base_url=base_url + API, timeout=30) as client:
        response = await client.post(
            "/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200, response.text
        client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
        yield client


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(**launch_options())
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Any, base_url: str) -> AsyncIterator[Any]:
    """A fresh page (no session storage) that fails the test on a CSP violation or JS error."""
    context = await browser.new_context(base_url=base_url, viewport={"width": 1400, "height": 900})
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    tab.on(
        "console",
        lambda message: (
            problems.append(f"console {message.type}: {message.text}")
            if message.type == "error" and "Failed to load resource" not in message.text
            else None
        ),
    )
    tab.problems = problems
    try:
        yield tab
    finally:
        await context.close()
    assert [p for p in problems if "Content Security Policy" in p or "page error" in p] == []
