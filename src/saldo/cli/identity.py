"""``saldo users``: the people who may log in (identity)."""

from __future__ import annotations

import os
import sys

import typer

from saldo import bootstrap
from saldo.cli.common import (
    EXIT_FAILURE,
    _app_pool,
    _expected_failures,
    _fail,
    _run,
    _settings,
    _upgrade,
    _with_container,
    out,
)

users_app = typer.Typer(no_args_is_help=True, help="Users who may log in.")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")


@users_app.command("create")
@_expected_failures
def users_create(
    username: str = typer.Argument(..., help="The login name."),
    superuser: bool = typer.Option(False, "--superuser", help="May administer all of Saldo."),
    full_name: str = typer.Option("", "--full-name", help="The person's name."),
) -> None:
    """Create a user. The password comes from SALDO_PASSWORD, else a hidden prompt.

    Applies pending migrations first, so a new installation starts with this command.
    """
    settings = _settings()
    password = os.environ.get("SALDO_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            _fail("Set SALDO_PASSWORD or run in a terminal to be asked for the password.",
                  EXIT_FAILURE)
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)

    async def work(container: bootstrap.Container) -> str:
        for m in await _upgrade(container):
            out.print(f"applied migration {m.version:04d}_{m.name}")
        async with _app_pool(container):
            user = await container.identity.create_user(
                username, password, full_name, is_superuser=superuser)
        return str(user.id)

    user_id = _run(_with_container(settings, work))
    kind = "superuser" if superuser else "user"
    out.print(f"created {kind} {username} ({user_id})")
