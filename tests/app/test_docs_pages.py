"""``/docs`` and ``/redoc`` load only from the API: vendored assets, no CDN, no inline script."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx
import pytest

from app.api import docs_pages

STATIC = Path(docs_pages.__file__).parent / "static"


@pytest.mark.fast
def test_the_vendored_files_are_the_fetched_ones_with_their_licences() -> None:
    entries = json.loads((STATIC / "VERSIONS.json").read_text())
    assert {(e["name"], e["license"]) for e in entries} == {
        ("swagger-ui-dist", "Apache-2.0"),
        ("redoc", "MIT"),
    }
    for entry in entries:
        assert re.fullmatch(r"\d+\.\d+\.\d+", entry["version"])
        assert entry["tarball"].startswith("https://registry.npmjs.org/")
        assert any(name.endswith("LICENSE") for name in entry["files"])
        for name, digest in entry["files"].items():
            assert hashlib.sha256((STATIC / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_pages_load_everything_from_the_api(http: httpx.AsyncClient, page: str) -> None:
    response = await http.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self';" in csp
    assert "default-src 'self'" in csp
    html = response.text
    assert "http://" not in html
    assert "https://" not in html
    assert "<script>" not in html  # no inline script: every one has a src
    urls = re.findall(r'(?:src|href|spec-url|data-openapi-url)="([^"]+)"', html)
    assets = [url for url in urls if url != "/openapi.json"]
    assert assets
    assert "/openapi.json" in urls
    for url in assets:
        assert url.startswith("/docs/assets/"), url
        served = await http.get(url)
        assert served.status_code == 200, url
        assert served.content == (STATIC / url.removeprefix("/docs/assets/")).read_bytes()
    assert (await http.get("/openapi.json")).status_code == 200


async def test_the_assets_directory_serves_nothing_outside_it(http: httpx.AsyncClient) -> None:
    for path in ("/docs/assets/../docs_pages.py", "/docs/assets/%2e%2e/docs_pages.py"):
        assert (await http.get(path)).status_code == 404
