"""The CLI's HTTP client for the FlowForge API (``/api/v1``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
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

    def events(self, path: str, last_event_id: str | None = None) -> Iterator[Event]:
        """The server-sent events of ``path`` until the server ends the stream."""
        headers = {"Accept": "text/event-stream"}
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        # Longer than the server's keep-alive pings, so a quiet run is no timeout.
        timeout = httpx.Timeout(_TIMEOUT, read=60.0)
        try:
            with self._client.stream("GET", path, headers=headers, timeout=timeout) as response:
                if response.is_error:
                    response.read()
                    fail(
                        f"GET {API_PREFIX}{path} answered {response.status_code}",
                        _problem(response),
                    )
                kind, event_id = "", None
                data: list[str] = []
                for line in response.iter_lines():
                    if not line:
                        if data:
                            yield _event(kind, event_id, data)
                        kind, data = "", []
                    elif line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].removeprefix(" "))
        except httpx.HTTPError as error:
            fail(f"the event stream of {path} broke off ({error})")

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


@dataclass(frozen=True)
class Event:
    """One server-sent event: its ``event`` name, ``id`` and decoded ``data``."""

    kind: str
    id: str | None
    data: Any


def _event(kind: str, event_id: str | None, lines: list[str]) -> Event:
    text = "\n".join(lines)
    try:
        data: Any = json.loads(text)
    except ValueError:
        data = text
    return Event(kind or "message", event_id, data)


def _problem(response: httpx.Response) -> Any:
    """The API's ``detail``/``errors``, or the raw body if it is not the usual shape."""
    try:
        body = response.json()
    except ValueError:
        return {"body": response.text[:2000]}
    if isinstance(body, dict) and ("detail" in body or "errors" in body):
        return {key: body[key] for key in ("detail", "errors") if key in body}
    return body
