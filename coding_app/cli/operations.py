"""Commands for running a study: backups, restoring one, checking a study, and consent withdrawn (PI only)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .. import backup as backups
from ..codebook import WITHDRAWN_RATINGS
from ..media import MediaStore, media_dir
from ..store import Store
from ..verify import verify as check_study
from ..withdrawal import withdraw as withdraw_consent
from .app import app

# Exit code of a check that ran and found something wrong (a backup written, but with media missing).
PROBLEMS = 1


def _report(problems: list[str]) -> None:
    for problem in problems:
        typer.echo(f"problem: {problem}", err=True)
    if problems:
        raise typer.Exit(PROBLEMS)


@app.command("backup")
def backup_(ctx: typer.Context, folder: Annotated[Path, typer.Argument(help="A new folder for the backup.")]) -> None:
    """Back the study up into a new FOLDER while coders work: database snapshot, media, hashes (PI only).

    Exit code 1: written, but media the study names were missing or changed (listed by recording code).
    """
    store = ctx.obj.store()
    made = backups.backup(store, ctx.obj.pi(store), MediaStore(media_dir(ctx.obj.media)), folder)
    typer.echo(
        f"backup written to {made.folder}: {made.rows} rows, {made.media_files} media files, {made.size / 1e6:.1f} MB"
    )
    _report(made.problems)


@app.command("restore")
def restore_(
    ctx: typer.Context, folder: Annotated[Path, typer.Argument(help="A folder `obscode backup` wrote.")]
) -> None:
    """Rebuild a backed-up study into an empty database (--db) and an empty media folder (--media).

    Checks every file of the backup against its checksum first. Needs a PI account of the backed-up study.
    """
    target = Store(ctx.obj.db)
    with backups.opened(folder) as snapshot:
        restored = backups.restore(snapshot, folder, target, MediaStore(media_dir(ctx.obj.media)), ctx.obj.pi(snapshot))
    typer.echo(f"restored {restored.rows} rows and {restored.media_files} media files; run obscode verify to check")


@app.command("verify")
def verify_(ctx: typer.Context) -> None:
    """Check the study: the database's integrity, every media file against its hash, every rating against the audit log.

    Exit code 1 when anything is wrong; each problem is named (recordings by their code).
    """
    store = ctx.obj.store()
    found = check_study(store, ctx.obj.pi(store), MediaStore(media_dir(ctx.obj.media)))
    typer.echo(found.summary())
    _report(found.problems)


@app.command()
def withdraw(
    ctx: typer.Context,
    participant: Annotated[str, typer.Argument(help="The participant's id, as in the import manifest.")],
    reason: Annotated[str, typer.Option(help="Why, for the record (kept on the key side and in the audit log).")],
) -> None:
    """A participant withdrew consent: delete her media now, take her recordings out of every queue (PI only).

    Her submitted ratings stay in or leave the analysis as the codebook's [study] withdrawn_ratings declares.
    """
    store = ctx.obj.store()
    done = withdraw_consent(store, ctx.obj.pi(store), MediaStore(media_dir(ctx.obj.media)), participant, reason)
    what = WITHDRAWN_RATINGS["keep" if done.ratings_kept else "exclude"]
    recordings = "1 recording's" if done.recordings == 1 else f"{done.recordings} recordings'"
    typer.echo(f"consent withdrawn: {recordings} media deleted, out of every queue; their ratings {what}")
