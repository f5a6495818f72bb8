"""Commands that build the study: its database, recordings, allocation, draws, queues, training set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..assignments import SELECTORS
from ..assignments import assign as assign_recordings
from ..assignments import unassign as unassign_recordings
from ..codebook import load_codebook
from ..imports.allocation import import_allocation
from ..imports.manifest import import_manifest
from ..imports.master_codes import import_master_codes
from ..imports.ratings import import_ratings
from ..media import MediaStore, media_dir
from ..ratings import reopen as reopen_rating
from ..sampling import (
    COUNT_ROUNDING,
    FRACTION_ROUNDING,
    STRATIFIERS,
    DrawSummary,
    draw_fidelity,
    draw_reliability,
)
from ..store import Store
from ..study_setup import initialise
from .app import app, progress_shown, study_location


@app.command()
def init(
    ctx: typer.Context,
    codebook: Annotated[
        Path | None, typer.Option(help="A codebook TOML file (default: the shipped EA and VIPP scales).")
    ] = None,
) -> None:
    """Create or upgrade the study database and load the codebook."""
    store = Store(ctx.obj.db)
    changes = initialise(store, load_codebook(codebook), ctx.obj.actor)
    typer.echo(f"study database: {study_location(ctx.obj.db)}; blinded media: {media_dir(ctx.obj.media).resolve()}")
    typer.echo("\n".join(changes) if changes else "the database is up to date")


IMPORT_STAGES = {"checked": "checking rows and files", "stored": "storing blinded copies"}


@app.command("import")
def import_(
    ctx: typer.Context,
    manifest: Annotated[
        Path,
        typer.Argument(
            help="CSV or XLSX: recording_id, participant_id, site, arm, timepoint, "
            "kind (video|audio), session, clinician, path."
        ),
    ],
) -> None:
    """Import recordings, all or nothing; their media go into the blinded store stripped of metadata."""
    store = ctx.obj.store()
    with progress_shown(IMPORT_STAGES) as progress:
        summary = import_manifest(store, MediaStore(media_dir(ctx.obj.media)), manifest, ctx.obj.actor, progress)
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(
        f"imported {summary.added} recordings ({summary.transcoded} transcoded for browsers), "
        f"{summary.participants_added} new participants; {summary.unchanged} already imported"
    )


@app.command("import-allocation")
def import_allocation_(
    ctx: typer.Context,
    allocation: Annotated[Path, typer.Argument(help="CSV or XLSX: participant_id, arm.")],
) -> None:
    """Fill in participants' arms from the allocation list, all or nothing."""
    store = ctx.obj.store()
    count = import_allocation(store, allocation, ctx.obj.actor)
    typer.echo(f"allocated {count} participants")


@app.command("import-ratings")
def import_ratings_(
    ctx: typer.Context,
    ratings: Annotated[
        Path, typer.Argument(help="CSV or XLSX: recording_id, coder, scale, score [, rated_at, notes].")
    ],
) -> None:
    """Bring in ratings made elsewhere (a pilot on paper, a spreadsheet), all or nothing."""
    store = ctx.obj.store()
    added = import_ratings(store, ratings, ctx.obj.actor)
    typer.echo(f"imported {added} ratings")


sample_app = typer.Typer(help="Reproducible sampling draws.", no_args_is_help=True)
app.add_typer(sample_app, name="sample")


def _report_draw(summary: DrawSummary) -> None:
    typer.echo(f"draw {summary.draw_id}: {summary.drawn} of {summary.frame_size} recordings")
    for label, counts in summary.strata.items():
        typer.echo(f"  {label}: {counts['drawn']} of {counts['size']}")


@sample_app.command("fidelity", help=f"Draw session audio for fidelity coding. Rounding: {FRACTION_ROUNDING}.")
def sample_fidelity(
    ctx: typer.Context,
    *,
    fraction: Annotated[float, typer.Option(help="Share of session audio to code, e.g. 0.10.")] = 0.10,
    seed: Annotated[int, typer.Option(help="Random seed; stored with the draw.")],
    stratify: Annotated[list[str] | None, typer.Option(help=f"Stratify by: {', '.join(STRATIFIERS)} (repeat).")] = None,
    top_up: Annotated[bool, typer.Option(help="Sample only recordings imported since the last draw.")] = False,
) -> None:
    store = ctx.obj.store()
    _report_draw(
        draw_fidelity(
            store, fraction=fraction, seed=seed, stratify=tuple(stratify or ()), top_up=top_up, actor=ctx.obj.actor
        )
    )


@sample_app.command(
    "reliability",
    help="Draw the videos to double-code, stratified so that every arm x timepoint cell is represented. "
    f"With --n: {COUNT_ROUNDING}. With --fraction: {FRACTION_ROUNDING}.",
)
def sample_reliability(
    ctx: typer.Context,
    *,
    n: Annotated[int | None, typer.Option(help="How many videos, e.g. 8.")] = None,
    fraction: Annotated[float | None, typer.Option(help="Or a share of the videos.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; stored with the draw.")],
    top_up: Annotated[
        bool, typer.Option(help="Sample only videos imported since the last draw (with --fraction).")
    ] = False,
) -> None:
    store = ctx.obj.store()
    _report_draw(draw_reliability(store, seed=seed, n=n, fraction=fraction, top_up=top_up, actor=ctx.obj.actor))


KIND_HELP = "video (EA raters) or audio (fidelity coders); default: the draw's own kind for draw:N, else video."


@app.command()
def assign(
    ctx: typer.Context,
    coders: Annotated[list[str], typer.Argument(help="Coder account names.")],
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
    recordings: Annotated[
        str | None,
        typer.Option(
            help=f"{SELECTORS}. Default: for audio, the fidelity draw once there "
            "is one (every session only with 'all'); else all."
        ),
    ] = None,
    scale: Annotated[
        list[str] | None, typer.Option(help="Scales to code (repeat); default every scale for the kind.")
    ] = None,
    split: Annotated[
        bool, typer.Option(help="Deal the recordings out among the coders instead of giving each all.")
    ] = False,
    seed: Annotated[
        int | None, typer.Option(help="Seed of the coding order (default: fresh, recorded in the audit log).")
    ] = None,
    primary: Annotated[
        str | None,
        typer.Option(
            help="The coder whose score counts in the analysis (default: the first "
            "coder a recording is assigned to); fixed once named."
        ),
    ] = None,
) -> None:
    """Put recordings in coders' queues, each coder's in their own random order."""
    store = ctx.obj.store()
    summary = assign_recordings(
        store,
        coders,
        kind=kind,
        recordings=recordings,
        scales=scale,
        split=split,
        seed=seed,
        actor=ctx.obj.actor,
        primary=primary,
    )
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    for name, count in summary.added.items():
        outside = summary.outside_draw.get(name, 0)
        typer.echo(
            f"{name}: {count} recordings added to the queue ({summary.chosen}"
            + (f"; {outside} outside the fidelity draw)" if outside else ")")
        )


@app.command()
def unassign(
    ctx: typer.Context,
    coder: Annotated[str, typer.Argument(help="Coder account name.")],
    recordings: Annotated[str, typer.Option(help=f"{SELECTORS}.")],
    kind: Annotated[str | None, typer.Option(help=KIND_HELP)] = None,
) -> None:
    """Take recordings a coder has not started out of their queue (started work stays); audited."""
    store = ctx.obj.store()
    summary = unassign_recordings(store, coder, kind=kind, recordings=recordings, actor=ctx.obj.actor)
    for warning in summary.warnings:
        typer.echo(f"warning: {warning}", err=True)
    typer.echo(f"{coder}: {summary.removed} recordings taken out of the queue")


@app.command()
def reopen(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Recording code.")],
    coder: Annotated[str, typer.Argument(help="Whose rating.")],
    scale: Annotated[str, typer.Argument(help="Which scale.")],
    reason: Annotated[str, typer.Option(help="Why it is reopened (kept in the audit log).")],
) -> None:
    """Reopen a submitted rating for its coder to change (PI only): a new version, audited."""
    store = ctx.obj.store()
    pi = ctx.obj.pi(store)
    version = reopen_rating(store, pi, code, coder, scale, reason)
    typer.echo(f"reopened as version {version}")


training_app = typer.Typer(
    help="The training set: master codes that coders are certified against.", no_args_is_help=True
)
app.add_typer(training_app, name="training")


@training_app.command("import")
def training_import(
    ctx: typer.Context,
    codes: Annotated[Path, typer.Argument(help="CSV or XLSX: recording_id (manifest id or code), scale, score.")],
) -> None:
    """Set master codes (PI only), all or nothing; the recordings become the training set."""
    store = ctx.obj.store()
    pi = ctx.obj.pi(store)
    added = import_master_codes(store, pi, codes)
    typer.echo(f"set {added} master codes")
