"""The CLI's HTTP client for the FlowForge API (``/api/v1``)."""

from __future__ import annotations

from typing import Any

import httpx

from app.cli.output import fail
from app.cli.settings import CliSettings
from app.cli.tokens import load_token

API_PREFIX = "/api/v1"
_TIMEOUT = 30.0


class Api:
    """Calls the API at FLOWFORGE_API_URL; any failure prints why and exits 1.

    Args:
        settings: Where the API is and which token to send.
        authenticated: Send a bearer token; without one, fail before calling.
    """

    def __init__(self, settings: CliSettings, *, authenticated: bool = True) -> None:
        self.base_url = settings.api_url.rstrip("/")
        headers = {}
        if authenticated:
            token = load_token(settings)
            if not token:
                fail("not logged in: run `flowforge login` or set FLOWFORGE_TOKEN")
            headers["Authorization"] = f"Bearer {token}"
        # No environment proxies: the API is usually on loopback.
        self._client = httpx.Client(
            base_url=self.base_url + API_PREFIX, headers=headers, timeout=_TIMEOUT, trust_env=False
        )

    def call(self, method: str, path: str, **options: Any) -> Any:
        """Send one request; return the decoded JSON body (None when there is none).

        ``options`` go to ``httpx.Client.request`` (``json``, ``data``, ``params``,
        ``headers``).
        """
        try:
            response = self._client.request(method, path, **options)
        except httpx.HTTPError as error:
            fail(f"cannot reach the API at {self.base_url} ({error}); is `flowforge dev` running?")
        if response.is_error:
            fail(f"{method} {API_PREFIX}{path} answered {response.status_code}", _problem(response))
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    def pages(self, path: str, **params: Any) -> list[Any]:
        """Every item of a paginated list, following ``next_cursor``."""
        items: list[Any] = []
        cursor: str | None = None
        while True:
            query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = self.call("GET", path, params=query)
            items += page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return items


def _problem(response: httpx.Response) -> Any:
    """The API's ``detail``/``errors``, or the raw body if it is not the usual shape."""
    try:
        body = response.json()
    except ValueError:
        return {"body": response.text[:2000]}
    if isinstance(body, dict) and ("detail" in body or "errors" in body):
        return {key: body[key] for key in ("detail", "errors") if key in body}
    return body
