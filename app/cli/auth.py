"""``flowforge login`` and ``flowforge users``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from app.cli.client import Api
from app.cli.output import show
from app.cli.settings import CliSettings
from app.cli.tokens import save_token

users = typer.Typer(help="Manage users (admin only).", no_args_is_help=True)


class Role(StrEnum):
    """A user's role: ``admin``, ``editor`` (defines and runs its own workflows) or ``viewer``."""

    admin = "admin"
    editor = "editor"
    viewer = "viewer"


def login(
    username: Annotated[str, typer.Option(prompt=True, help="Your user name.")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, help="Your password.")],
) -> None:
    """Get a token from the API and store it for later commands."""
    settings = CliSettings()
    answer = Api(settings, authenticated=False).call(
        "POST", "/auth/token", data={"username": username, "password": password}
    )
    stored = save_token(settings, answer["access_token"])
    show({"api_url": settings.api_url, "username": username, "token_stored_in": str(stored)})


@users.command("create")
def create_user(
    username: Annotated[str, typer.Argument(help="The new user's name.")],
    password: Annotated[
        str,
        typer.Option(
            prompt=True, hide_input=True, confirmation_prompt=True, help="Their password."
        ),
    ],
    role: Annotated[Role, typer.Option(help="What they may do.")] = Role.editor,
) -> None:
    """Create a user through the API (needs an admin's token)."""
    body = {"username": username, "password": password, "role": role.value}
    show(Api(CliSettings()).call("POST", "/users", json=body))
