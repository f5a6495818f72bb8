"""Commands for accounts: add, list, deactivate and reactivate, reset a password, change roles (PI only; the study's
first account, its PI, is added with no account to act as)."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from .. import accounts
from .app import app

user_app = typer.Typer(help="Accounts.", no_args_is_help=True)
app.add_typer(user_app, name="user")

NAME = Annotated[str, typer.Argument(help="Account name.")]


def _new_password(name: str, variable: str = "OBSCODE_NEW_PASSWORD") -> str:
    """A password for ``name`` from the environment ``variable``, or asked for twice; never on the command line."""
    return os.environ.get(variable) or typer.prompt(f"Password for {name}", hide_input=True, confirmation_prompt=True)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[
        list[str],
        typer.Option(
            help="coder (EA rater), fidelity (fidelity coder) or pi; "
            "repeat for someone who rates videos and codes fidelity."
        ),
    ],
) -> None:
    """Add an account (PI only: --as NAME); its password is asked for (or read from OBSCODE_NEW_PASSWORD), never given
    on the command line. A new study's first account is its PI, added without --as (password: OBSCODE_PASSWORD)."""
    store = ctx.obj.store()
    pi = ctx.obj.pi(store) if ctx.obj.user else None
    password = _new_password(name, "OBSCODE_PASSWORD" if pi is None else "OBSCODE_NEW_PASSWORD")
    added = accounts.add(store, pi, name, role, password)
    typer.echo(f"added {added.role_text} account {name}")


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """Every account: roles, whether active, last sign-in, whether a new password is waiting to be chosen (PI only)."""
    store = ctx.obj.store()
    rows = accounts.list_accounts(store, ctx.obj.pi(store))
    table = [("name", "roles", "active", "last sign-in", "password")] + [
        (
            a.name,
            ", ".join(a.roles),
            "yes" if a.active else "no",
            a.last_sign_in.strftime("%Y-%m-%d %H:%M UTC") if a.last_sign_in else "never",
            "must change at next sign-in" if a.must_change_password else "",
        )
        for a in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@user_app.command("deactivate")
def user_deactivate(ctx: typer.Context, name: NAME) -> None:
    """End the account's sessions now and refuse its sign-in until reactivated (PI only)."""
    store = ctx.obj.store()
    accounts.set_active(store, ctx.obj.pi(store), name, False)
    typer.echo(f"deactivated {name}: signed out everywhere, and cannot sign in")


@user_app.command("reactivate")
def user_reactivate(ctx: typer.Context, name: NAME) -> None:
    """Let a deactivated account sign in again (PI only)."""
    store = ctx.obj.store()
    accounts.set_active(store, ctx.obj.pi(store), name, True)
    typer.echo(f"reactivated {name}")


@user_app.command("reset")
def user_reset(ctx: typer.Context, name: NAME) -> None:
    """Set a temporary password (asked for, or OBSCODE_NEW_PASSWORD); the account chooses its own at next sign-in
    (PI only)."""
    store = ctx.obj.store()
    pi = ctx.obj.pi(store)
    password = _new_password(name)
    accounts.reset_password(store, pi, name, password)
    typer.echo(f"reset {name}'s password: they sign in with the temporary one, then must choose a new one")


@user_app.command("role")
def user_role(
    ctx: typer.Context,
    name: NAME,
    add: Annotated[list[str], typer.Option("--add", help="A role to give (coder, fidelity or pi).")] = [],  # noqa: B006
    remove: Annotated[list[str], typer.Option("--remove", help="A role to take away.")] = [],  # noqa: B006
) -> None:
    """Give or take away roles (PI only). A PI holds no coding role: a PI sees allocations, a coder stays blind."""
    if not add and not remove:
        raise typer.BadParameter("say --add ROLE or --remove ROLE")
    store = ctx.obj.store()
    roles = accounts.change_roles(store, ctx.obj.pi(store), name, add, remove)
    typer.echo(f"{name} now has the {' and '.join(sorted(roles))} role{'s' if len(roles) > 1 else ''}")
