"""Commands for the database lock: coding closes before outcomes are unblinded."""

from __future__ import annotations

from typing import Annotated

import typer

from ..lock import lock as close_coding
from ..lock import lock_report
from ..lock import unlock as open_coding
from .app import app

lock_app = typer.Typer(
    help="The database lock: close coding (PI only) before outcomes are unblinded.", invoke_without_command=True
)
app.add_typer(lock_app, name="lock")


@lock_app.callback()
def lock_(
    ctx: typer.Context,
    scale: Annotated[str | None, typer.Option(help="Close only this scale (default: the whole study).")] = None,
    reason: Annotated[str, typer.Option(help="Why, for the record (optional).")] = "",
) -> None:
    """Close coding of the whole study, or of one scale: no draft, submission, reopening, consensus or import
    after it."""
    if ctx.invoked_subcommand is not None:
        return
    store = ctx.obj.store()
    closed = close_coding(store, ctx.obj.pi(store), scale, reason)
    typer.echo(f"coding closed: {closed.describe()}")


@lock_app.command("status")
def lock_status(ctx: typer.Context) -> None:
    """What was locked and unlocked, when, by whom and why (PI only)."""
    store = ctx.obj.store()
    report = lock_report(store, ctx.obj.pi(store))
    if report.empty:
        typer.echo("coding is open: nothing has been locked")
        return
    typer.echo(report.to_string(index=False, formatters={"at": lambda t: f"{t:%Y-%m-%d %H:%M} UTC"}))


@app.command()
def unlock(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option(help="Why coding opens again (kept in the lock's history and the audit log).")],
    scale: Annotated[
        str | None, typer.Option(help="The scale whose lock to lift (default: the whole study's).")
    ] = None,
) -> None:
    """Open coding again (PI only); needs a reason."""
    store = ctx.obj.store()
    open_coding(store, ctx.obj.pi(store), scale, reason)
    typer.echo(f"coding open again: {scale or 'the whole study'}")
