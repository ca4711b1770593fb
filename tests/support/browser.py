"""A real Chromium driven by Playwright against the API served by uvicorn."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.support.api import ADMIN_PASSWORD, ADMIN_USERNAME

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str | None:
    """The Chromium to drive: ``$FLOWFORGE_TEST_CHROMIUM``, else Debian's ``chromium`` on PATH."""
    given = os.environ.get("FLOWFORGE_TEST_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def skip_reason() -> str | None:
    """Why the browser tests cannot run here (None when they can)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return (
            "browser tests skipped: the playwright package is not installed "
            "(pip install -e '.[dev]')"
        )
    if find_chromium() is None:
        return (
            "browser tests skipped: no Chromium found (apt-get install chromium, "
            "or set FLOWFORGE_TEST_CHROMIUM)"
        )
    return None


LAUNCH_ARGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
"""Root in a container has no user namespaces for Chromium's sandbox; /dev/shm is small."""


def launch_options() -> dict[str, Any]:
    """Keyword arguments of ``chromium.launch``."""
    return {"executable_path": find_chromium(), "args": LAUNCH_ARGS, "headless": True}


async def sign_in(page: Any, path: str = "/ui") -> None:
    """Open ``path`` and sign in as the first admin through the form."""
    await page.goto(path)
    await page.get_by_label("Username").fill(ADMIN_USERNAME)
    await page.get_by_label("Password").fill(ADMIN_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("button", name="Sign out").wait_for()


def node(page: Any, node_id: str, status: str | None = None) -> Any:
    """The graph node ``node_id`` (with ``status``, if given), by the data-* contract."""
    selector = f'[data-node-id="{node_id}"]' + (f'[data-status="{status}"]' if status else "")
    return page.locator(f".graph {selector}").first


def unique(name: str) -> str:
    """``name`` with a random suffix, so tests sharing the session database do not collide."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


async def create(api: httpx.AsyncClient, definition: dict[str, Any]) -> dict[str, Any]:
    """Store ``definition`` as a new workflow through the API; its body."""
    response = await api.post("/workflows", json={"definition": definition})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def start(api: httpx.AsyncClient, workflow_id: str, run_input: Any = None) -> str:
    """Start a run of ``workflow_id`` through the API; its run id."""
    response = await api.post(f"/workflows/{workflow_id}/runs", json={"input": run_input or {}})
    assert response.status_code == 202, response.text
    run_id: str = response.json()["run_id"]
    return run_id
