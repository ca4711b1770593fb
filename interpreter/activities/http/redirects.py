"""Follow redirects one hop at a time.

httpx could follow them itself, but it only strips ``Authorization`` when a
redirect leaves the origin; an API key in a custom header would travel on to
whatever host the redirect names. Here a redirect to another origin drops
:data:`ALWAYS_CREDENTIALS` and every header the request's builder names as a
credential: the ``auth`` block's, and each header whose value came from a
``{{ secrets.NAME }}`` hole (the activity knows which before rendering). Each
hop is a fresh request through the guarded transport, so every destination is
checked again.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urljoin

import httpx

from interpreter.activities.outbound import parse_url, redacted
from interpreter.errors import HttpStatusError

REDIRECTS = frozenset({301, 302, 303, 307, 308})
ALWAYS_CREDENTIALS = frozenset({"authorization", "proxy-authorization", "cookie"})
"""Dropped on a redirect to another origin whatever their value's source (as browsers do)."""
_BODY_HEADERS = ("content-length", "content-type", "transfer-encoding")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def next_request(
    request: httpx.Request,
    response: httpx.Response,
    credentials: Collection[str],
    *,
    secret_body: bool = False,
) -> httpx.Request:
    """The request a redirect ``response`` asks for (same rules as browsers and httpx).

    Args:
        request: The request that was answered with a redirect.
        response: The redirect.
        credentials: Lower-case names of the headers that must not reach another
            origin, besides :data:`ALWAYS_CREDENTIALS`.
        secret_body: The request's body holds a secret.

    Raises:
        HttpStatusError: the ``Location`` is not a valid URL, or the redirect
            would re-send a body holding a secret to another origin (neither
            retryable).
        EgressDenied: the ``Location`` uses a scheme other than http or https.
    """
    location = response.headers["location"]
    try:
        url = parse_url(urljoin(str(request.url), location))
    except ValueError as exc:
        raise HttpStatusError(
            f"{redacted(request.url)} redirected to an invalid URL: {exc}",
            status=response.status_code,
            retryable=False,
            details={"status": response.status_code},
        ) from None
    method = request.method
    if (response.status_code == 303 and method != "HEAD") or (
        response.status_code in (301, 302) and method == "POST"
    ):
        method = "GET"
    headers = httpx.Headers(request.headers)
    headers.pop("host", None)
    cross_origin = _origin(url) != _origin(request.url)
    if cross_origin:
        for name in ALWAYS_CREDENTIALS | {name.lower() for name in credentials}:
            headers.pop(name, None)
    content: bytes | None = request.content
    if cross_origin and secret_body and method == request.method and content:
        # Headers can be dropped, a body cannot: re-sending it would hand the
        # secret to whatever origin the upstream names.
        raise HttpStatusError(
            f"{redacted(request.url)} redirected ({response.status_code}) to another origin, "
            f"{redacted(url)}, which would re-send a body that holds a secret: point the "
            "node at the final URL, or set follow_redirects: false",
            status=response.status_code,
            retryable=False,
            details={"status": response.status_code},
        )
    if method != request.method:
        content = None
        for name in _BODY_HEADERS:
            headers.pop(name, None)
    return httpx.Request(
        method, url, headers=headers, content=content, extensions=request.extensions
    )


async def send_following(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    follow: bool,
    max_redirects: int,
    credentials: Collection[str],
    secret_body: bool = False,
) -> httpx.Response:
    """Send ``request``; return the final response with its body still unread.

    Raises:
        HttpStatusError: more than ``max_redirects`` hops (not retryable).
    """
    hops = 0
    while True:
        response = await client.send(request, stream=True, follow_redirects=False)
        if (
            not follow
            or response.status_code not in REDIRECTS
            or "location" not in response.headers
        ):
            return response
        await response.aclose()
        if hops == max_redirects:
            raise HttpStatusError(
                f"{redacted(request.url)} redirected more than {max_redirects} times",
                status=response.status_code,
                retryable=False,
                details={"status": response.status_code},
            )
        hops += 1
        request = next_request(request, response, credentials, secret_body=secret_body)
