"""Commands for accounts."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from ..accounts import add_account
from .app import app



user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="coder (EA rater), fidelity (fidelity coder) or pi.")],
) -> None:
    """Add an account; the password is asked for (or read from OBSCODE_PASSWORD), never given on the command line."""
    store = ctx.obj.store()
    password = os.environ.get("OBSCODE_PASSWORD") or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with store.write() as db:
        add_account(db, name, role, password, ctx.obj.actor)
    typer.echo(f"added {role} account {name}")
