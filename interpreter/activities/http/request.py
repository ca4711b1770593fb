"""Turn an ``http`` node's config into the request to send."""

from __future__ import annotations

import base64
from collections.abc import Collection
from dataclasses import dataclass

import httpx

from interpreter.activities.http.config import ApiKeyAuth, BasicAuth, HttpConfig
from interpreter.activities.outbound import add_idempotency_key, parse_url
from interpreter.dsl.pointer import pointer
from interpreter.tracing import add_trace_context

_BODY_FIELDS = ("/body", "/form", "/content")


@dataclass(frozen=True)
class Outgoing:
    """The first request, and what must not follow it to another origin.

    Attributes:
        request: The request to send.
        credential_headers: Lower-case names of headers dropped on a redirect to
            another origin.
        secret_body: The body holds a secret: a redirect that would re-send it to
            another origin (307/308) is refused.
    """

    request: httpx.Request
    credential_headers: frozenset[str]
    secret_body: bool = False


def build_request(
    client: httpx.AsyncClient,
    config: HttpConfig,
    *,
    idempotency_key: str | None,
    timeout: float,
    secret_fields: Collection[str] = (),
) -> Outgoing:
    """The request ``config`` describes, with auth and idempotency headers.

    Args:
        client: Builds the request (its default headers included).
        config: The rendered config.
        idempotency_key: Sent as ``Idempotency-Key`` unless the config sets one.
        timeout: Seconds for the whole exchange.
        secret_fields: JSON pointers of the config strings that held a secret
            hole (:attr:`~interpreter.activities.secrets.Revealed.secret_fields`):
            the headers among them are credentials, whatever their name.

    Raises:
        ValueError: the URL is malformed.
        EgressDenied: the scheme is not http or https.
    """
    url = parse_url(config.url)
    headers = httpx.Headers(config.headers)
    query = dict(config.query)
    credentials = {"authorization"}
    credentials |= {
        name.lower() for name in config.headers if pointer(("headers", name)) in secret_fields
    }
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
    add_idempotency_key(headers, idempotency_key)
    add_trace_context(headers)
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
    secret_body = any(field.startswith(_BODY_FIELDS) for field in secret_fields)
    return Outgoing(request, frozenset(credentials), secret_body)
