"""The dashboard's routes: one shell for every page path, static files, the CSP on all of it."""

from __future__ import annotations

import httpx

from app.ui.routes import CONTENT_SECURITY_POLICY


async def test_every_page_path_answers_the_shell_with_the_csp(http: httpx.AsyncClient) -> None:
    for path in ("/ui", "/ui/", "/ui/workflows/abc", "/ui/runs/run-1%2Fchild", "/ui/secrets"):
        response = await http.get(path)
        assert response.status_code == 200, path
        assert 'src="/ui/static/js/app.js"' in response.text
        assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["x-frame-options"] == "DENY"


async def test_static_files_carry_the_csp_and_the_api_does_not(http: httpx.AsyncClient) -> None:
    script = await http.get("/ui/static/js/run.js")
    assert script.status_code == 404
    script = await http.get("/ui/static/js/pages/run.js")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert script.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    health = await http.get("/healthz")
    assert "content-security-policy" not in health.headers


async def test_the_root_and_dashboard_lead_to_the_dashboard(http: httpx.AsyncClient) -> None:
    for path in ("/", "/dashboard"):
        response = await http.get(path, follow_redirects=False)
        assert response.status_code == 307
        assert response.headers["location"] == "/ui"
