"""The rendered config of an ``http`` node."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, field_validator, model_validator

from interpreter.dsl.durations import Duration
from interpreter.dsl.node_config import NodeConfig

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
Scalar = str | int | float | bool | None

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CLIENT_OWNED = frozenset({"host", "content-length", "transfer-encoding", "connection"})


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class _Config(NodeConfig):
    # A rendered hole yields a native value: `{{ input.id }}` may give a number
    # where a header or token wants text.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True)


class BasicAuth(_Config):
    """HTTP Basic authentication with ``username`` and ``password``."""

    type: Literal["basic"]
    username: str
    password: str


class BearerAuth(_Config):
    """``token`` sent as ``Authorization: Bearer <token>``."""

    type: Literal["bearer"]
    token: str = Field(min_length=1)


class ApiKeyAuth(_Config):
    """An API key sent in a header or, if ``query`` names a parameter, in the query string.

    The header is ``X-API-Key`` unless ``header`` names another.
    """

    type: Literal["api_key"]
    key: str = Field(min_length=1)
    header: str | None = Field(default=None, pattern=_TOKEN.pattern)
    query: str | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_place(self) -> ApiKeyAuth:
        if self.header is not None and self.query is not None:
            raise ValueError("set either header or query for the API key, not both")
        return self


Auth = Annotated[BasicAuth | BearerAuth | ApiKeyAuth, Field(discriminator="type")]


class HttpConfig(_Config):
    """Config of an ``http`` node (see DSL.md).

    Attributes:
        body: JSON body. At most one of ``body``, ``form`` and ``content``.
        form: Form fields, sent ``application/x-www-form-urlencoded``.
        content: Raw text body, sent as given (set ``Content-Type`` yourself).
        timeout: Whole-request deadline, redirects and body included; the
            node's ``timeout`` if unset.
        expect_status: Statuses that count as success; any 2xx if unset.
        response: How the body is parsed: ``json``, ``text`` or ``auto`` (JSON
            when the content type says so, else text).
        max_response_bytes: Body cap; the worker's default (1 MiB) if unset.
    """

    method: Annotated[Method, BeforeValidator(_upper)] = "GET"
    url: str = Field(min_length=1, max_length=8192)
    query: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)
    headers: dict[str, str] = Field(default_factory=dict)
    body: Any = None
    form: dict[str, Scalar | list[Scalar]] | None = None
    content: str | None = None
    auth: Auth | None = None
    timeout: Duration | None = None
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] | None = Field(
        default=None, min_length=1, max_length=100
    )
    response: Literal["json", "text", "auto"] = "auto"
    max_response_bytes: int | None = Field(default=None, ge=1)
    follow_redirects: bool = True

    @field_validator("url", mode="before")
    @classmethod
    def _http_url(cls, url: object) -> object:
        # A number would otherwise be coerced to a string and fail only at run time.
        if not isinstance(url, str):
            raise ValueError("must be a string: an http:// or https:// URL")
        return url

    @field_validator("headers")
    @classmethod
    def _plain_headers(cls, headers: dict[str, str]) -> dict[str, str]:
        for name, value in headers.items():
            if not _TOKEN.match(name):
                raise ValueError(f"{name!r} is not a valid header name")
            if name.lower() in _CLIENT_OWNED:
                raise ValueError(f"header {name!r} is set by the client; remove it")
            if "\r" in value or "\n" in value:
                raise ValueError(f"header {name!r} must not contain line breaks")
        return headers

    @model_validator(mode="after")
    def _one_body(self) -> HttpConfig:
        given = [
            name
            for name, value in (("body", self.body), ("form", self.form), ("content", self.content))
            if value is not None
        ]
        if len(given) > 1:
            raise ValueError(f"set only one of body, form and content (got {', '.join(given)})")
        return self
