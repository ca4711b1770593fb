"""Turn an ``http`` node's config into the request to send."""

from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass

import httpx

from interpreter.activities.http.config import ApiKeyAuth, BasicAuth, HttpConfig
from interpreter.egress import canonical_ipv4_url, check_scheme

_HOST = re.compile(r"^(?=.{1,253}\.?$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?\.?)+$", re.IGNORECASE)


@dataclass(frozen=True)
class Outgoing:
    """The first request, and the headers that must not follow a cross-origin redirect."""

    request: httpx.Request
    credential_headers: frozenset[str]


def parse_url(text: str) -> httpx.URL:
    """Parse an absolute http(s) URL.

    Raises:
        ValueError: the URL is malformed (message says why).
        EgressDenied: the scheme is not http or https.
    """
    try:
        url = httpx.URL(text)
    except httpx.InvalidURL as exc:
        canonical = canonical_ipv4_url(text)
        if canonical is None:
            raise ValueError(str(exc)) from None
        try:
            url = httpx.URL(canonical)
        except httpx.InvalidURL as again:
            raise ValueError(str(again)) from None
    if url.scheme:
        check_scheme(url.scheme)
    if not url.scheme or not url.host:
        raise ValueError(f"{text!r} is not an absolute URL (http://host/...)")
    host = url.raw_host.decode("ascii")
    # httpx percent-encodes junk into the host; refuse it here rather than send
    # a DNS query for a name that cannot exist.
    if not (_HOST.match(host) or _is_ip(host)):
        raise ValueError(f"{url.host!r} is not a valid host name")
    if url.port is not None and not 0 < url.port < 65536:
        raise ValueError(f"port {url.port} is out of range")
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def redacted(url: httpx.URL) -> str:
    """``url`` without credentials or query, which may hold secrets; for messages."""
    return f"{url.scheme}://{url.netloc.decode('ascii')}{url.path}"


def build_request(
    client: httpx.AsyncClient,
    config: HttpConfig,
    *,
    idempotency_key: str | None,
    timeout: float,
) -> Outgoing:
    """The request ``config`` describes, with auth and idempotency headers.

    Raises:
        ValueError: the URL is malformed.
        EgressDenied: the scheme is not http or https.
    """
    url = parse_url(config.url)
    headers = httpx.Headers(config.headers)
    query = dict(config.query)
    credentials = {"authorization"}
    auth = config.auth
    if isinstance(auth, BasicAuth):
        token = base64.b64encode(f"{auth.username}:{auth.password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif isinstance(auth, ApiKeyAuth):
        if auth.query is not None:
            query[auth.query] = auth.key
        else:
            name = auth.header or "X-API-Key"
            headers[name] = auth.key
            credentials.add(name.lower())
    elif auth is not None:
        headers["Authorization"] = f"Bearer {auth.token}"
    if idempotency_key is not None and "idempotency-key" not in headers:
        headers["Idempotency-Key"] = idempotency_key
    if query:
        # Passing `params` to httpx would replace a query already in the URL.
        url = url.copy_merge_params(query)
    request = client.build_request(
        config.method,
        url,
        headers=headers,
        json=config.body,
        data=config.form,
        content=config.content,
        timeout=timeout,
    )
    return Outgoing(request, frozenset(credentials))
