"""The CLI's own settings: where the API is and how to authenticate to it.

The CLI is a client: it never builds the API's settings, so the API's rules
(a JWT secret in prod, for one) never stop a command that only calls the API.
``flowforge dev`` reads the dev supervisor's settings and ``flowforge db
upgrade`` the common ones instead.
"""

from __future__ import annotations

from pydantic import Field

from interpreter.settings import FlowForgeSettings


class CliSettings(FlowForgeSettings):
    """What ``flowforge`` reads for its API calls (each field's ``description`` says what for)."""

    api_url: str = Field(
        default="http://127.0.0.1:8000", description="The API the `flowforge` CLI calls."
    )
    token: str = Field(
        default="",
        description=(
            "Bearer token of the CLI; empty: the one `flowforge login` stored for "
            "`FLOWFORGE_API_URL`."
        ),
    )
    cli_config_dir: str = Field(
        default="~/.config/flowforge",
        description="Where `flowforge login` keeps tokens (`credentials.json`, mode 0600).",
    )
