"""The ``obscode`` command."""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import click
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from outcomes import OutcomeTables, outcome_tables
from reliability import Scale, agreement_table, band

from reliability.summary import COLUMNS

from . import audit
from .accounts import add_account, authenticate
from .agreement import SHOWN_STATISTICS, agreement_report, double_coded
from .allocation import import_allocation
from .assignments import assign as assign_recordings
from .certification import certification_status, import_master_codes
from .codebook import load_codebook
from .consensus import consensus_ratings
from .errors import NotFound
from .export import FORMATS, default_name, export_ratings, spreadsheet_csv
from .lock import lock as close_coding
from .lock import lock_report
from .lock import unlock as open_coding
from .media import MediaStore, media_dir
from .ratings import import_ratings
from .ratings import reopen as reopen_rating
from .recordings import import_manifest
from .reliability_report import file_names, report_html, report_tables, tables_csv_zip, tables_xlsx
from .sampling import COUNT_ROUNDING, FRACTION_ROUNDING, STRATIFIERS, DrawSummary, draw_fidelity, draw_reliability
from .spreadsheet import read_table
from .store import Store, StoreError, StoreUnavailable
from .store.models import Account
from .study import initialise

# Exit codes: 2 the request was refused (bad input, not allowed, not found), 3 the study database cannot be
# reached just now (try again), 4 a file could not be read or written.
REFUSED, UNAVAILABLE, FILE_ERROR = 2, 3, 4
# What a person can act on (domain refusals are ValueErrors). Anything else is a bug and keeps its traceback.
_EXPECTED = (ValueError, NotFound, PermissionError, OSError, StoreError)


def _typed(name: str, typed: list[str]) -> bool:
    """Whether the user typed this path, a folder it is in, or a path inside it (``--output=PATH`` too)."""
    path = Path(name)
    given = [Path(t.split("=", 1)[-1]) for t in typed if t.strip("-=")]
    return any(path == g or path in g.parents or g in path.parents for g in given)


def _said(error: Exception, typed: list[str]) -> tuple[str, int]:
    """The one-line message and exit code for an expected error.

    A file is named only if the user typed it (or the folder it is in): a path the study made
    up, or one from a manifest, can carry a participant's name or visit.
    """
    if isinstance(error, StoreUnavailable):
        return str(error), UNAVAILABLE
    if isinstance(error, OSError) and not (isinstance(error, PermissionError) and error.errno is None):
        name = str(error.filename or "")
        return f"{name if name and _typed(name, typed) else 'a file'}: {error.strerror or 'cannot be read or written'}", FILE_ERROR
    return str(error), REFUSED


class _ErrorBoundary(TyperGroup):
    """Every command runs inside this group: an expected error ends it with one message on stderr and an
    exit code, never a traceback (which would quote paths and values)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["obscode.typed"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except _EXPECTED as error:
            message, code = _said(error, ctx.meta.get("obscode.typed", []))
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=_ErrorBoundary,
    help="obscode: blinded observational coding, fidelity rating and inter-rater reliability for clinical trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class Context:
    db: str | None
    media: Path | None
    user: str | None

    def store(self) -> Store:
        """The study database, ready to use (StoreError with the reason otherwise)."""
        store = Store(self.db)
        store.check()
        return store

    @property
    def actor(self) -> str:
        return self.user or "cli"

    def pi(self, store: Store) -> Account:
        """The PI named by --as, after checking their password; exits otherwise."""
        if not self.user:
            fail("this needs a PI: name your account with --as NAME (or OBSCODE_USER)")
        password = os.environ.get("OBSCODE_PASSWORD") or typer.prompt(f"Password for {self.user}", hide_input=True)
        account = authenticate(store, self.user, password)
        if account is None or account.role != "pi":
            refusal = "not a PI account, or wrong password"
            audit.refused(store, self.user, "refused.command", "command", reason=refusal)
            fail(refusal)
        return account


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(REFUSED)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option(help="Database URL (default sqlite:///var/obscode.db).",
                                           envvar="OBSCODE_DATABASE_URL")] = None,
    media: Annotated[Path | None, typer.Option(help="Blinded media folder (default var/media).",
                                               envvar="OBSCODE_MEDIA_DIR")] = None,
    user: Annotated[str | None, typer.Option("--as", help="Your account, recorded in the audit log.",
                                             envvar="OBSCODE_USER")] = None,
) -> None:
    """Observational coding and fidelity rating for clinical trials."""
    ctx.obj = Context(db, media, user)


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


def _parse_scales(specs: list[str], threshold: float | None) -> Scale | dict[str, Scale]:
    """``LOW:HIGH:STEP`` for every subscale, or ``SUBSCALE=LOW:HIGH:STEP`` each."""
    named = [s for s in specs if "=" in s]
    if named and len(named) != len(specs):
        raise typer.BadParameter("give either one --scale for all subscales or SUBSCALE=LOW:HIGH:STEP for each")
    try:
        if not named:
            if len(specs) != 1:
                raise typer.BadParameter("more than one --scale needs SUBSCALE=LOW:HIGH:STEP for each")
            return Scale.parse(specs[0], threshold)
        pairs = (spec.split("=", 1) for spec in named)
        return {name.strip(): Scale.parse(text, threshold) for name, text in pairs}
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scale") from None


def _number(x: float) -> str:
    return "" if math.isnan(x) else f"{x:.3f}"


def _print_table(table: pd.DataFrame, settings: dict[str, object]) -> None:
    console = Console()
    for row in table.itertuples(index=False):
        record = row._asdict()
        title = f"{record['subscale']}: {record['coder_a']} vs {record['coder_b']}"
        caption = f"n = {record['n']} units scored by both; {record['n_unpaired']} by only one"
        grid = Table(title=title, caption=caption, title_justify="left", caption_justify="left")
        for header in ("statistic", "estimate", f"{settings['confidence']:.0%} CI", "interpretation"):
            grid.add_column(header, justify="left" if header in ("statistic", "interpretation") else "right")
        for prefix, label, bands in SHOWN_STATISTICS:
            estimate = record[prefix]
            if math.isnan(estimate) and prefix.startswith("class_") and settings["threshold"] is None:
                continue
            low, high = record[f"{prefix}_ci_low"], record[f"{prefix}_ci_high"]
            interval = "" if math.isnan(low) else f"{_number(low)} to {_number(high)}"
            grid.add_row(label.format(**settings), _number(estimate) or "undefined", interval,
                         band(estimate, bands) if bands else "")  # fmt: skip
        console.print(grid)
        if record["notes"]:
            console.print(f"[yellow]note:[/] {record['notes']}")
        console.print()
    console.print(
        f"Kappa CIs: analytic (Fleiss, Cohen & Everitt 1969). Alpha CI: bootstrap over units, "
        f"B = {settings['n_boot']}, seed = {settings['seed']}. Bands: Landis & Koch (kappa, AC), "
        f"Koo & Li (ICC), Krippendorff (alpha); shown, not used to gate."
    )


@app.command()
def reliability(
    ctx: typer.Context,
    ratings: Annotated[Path | None, typer.Argument(
        help="Long-format ratings, CSV or XLSX: unit, coder, subscale, score. Without it: the study's own "
             "submitted ratings, on the codebook's scales.")] = None,
    scale: Annotated[list[str] | None, typer.Option(
        help="For a file: LOW:HIGH:STEP for every subscale, or SUBSCALE=LOW:HIGH:STEP (repeat) for each. "
             "Default 1:7:0.5.")] = None,
    threshold: Annotated[float | None, typer.Option(help="For a file: scores at or above it form the upper class.")] = None,
    within: Annotated[float, typer.Option(help="Tolerance in points for 'agreement within'.")] = 1.0,
    level: Annotated[str, typer.Option(help="Krippendorff alpha's level: nominal, ordinal, interval, ratio.")] = "ordinal",
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for alpha's interval (0: none).")] = 1_000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed, so that the table can be reproduced.")] = 1,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Agreement between every pair of coders on every subscale: of a ratings file, or of the study."""
    if ratings is not None:
        scales = _parse_scales(scale or ["1:7:0.5"], threshold)
        frame = read_table(ratings)
    else:
        if scale or threshold is not None:
            fail("--scale and --threshold are for a ratings file; the study's scales come from its codebook")
        long, codebook = double_coded(ctx.obj.store())
        frame = long.rename(columns={"code": "unit", "scale": "subscale"})[list(COLUMNS)]
        scales = {key: definition.scale for key, definition in codebook.scales.items()}
    table = agreement_table(frame, scales, within=within, level=level, confidence=confidence, n_boot=n_boot, seed=seed)
    thresholds = sorted({s.threshold for s in ([scales] if isinstance(scales, Scale) else scales.values())
                         if s.threshold is not None})  # fmt: skip
    settings = table.attrs | {"threshold": ", ".join(f"{t:g}" for t in thresholds) or None}
    if output is OutputFormat.json:
        records = json.loads(table.to_json(orient="records"))
        typer.echo(json.dumps({"settings": settings, "rows": records}, indent=2))
    elif output is OutputFormat.csv:
        typer.echo(spreadsheet_csv(table), nl=False)
    else:
        _print_table(table, settings)


@app.command()
def init(
    ctx: typer.Context,
    codebook: Annotated[Path | None, typer.Option(help="A codebook TOML file (default: the shipped EA and VIPP scales).")] = None,
) -> None:
    """Create or upgrade the study database and load the codebook."""
    store = Store(ctx.obj.db)
    changes = initialise(store, load_codebook(codebook), ctx.obj.actor)
    typer.echo("\n".join(changes) if changes else "the database is up to date")


@app.command("import")
def import_(
    ctx: typer.Context,
    manifest: Annotated[Path, typer.Argument(help="CSV or XLSX: recording_id, participant_id, site, arm, timepoint, "
                                                  "kind (video|audio), session, clinician, path.")],
) -> None:
    """Import recordings, all or nothing; their media go into the blinded store stripped of metadata."""
    store = ctx.obj.store()
    summary = import_manifest(store, MediaStore(media_dir(ctx.obj.media)), manifest, ctx.obj.actor)
    typer.echo(f"imported {summary.added} recordings ({summary.transcoded} transcoded for browsers), "
               f"{summary.participants_added} new participants; {summary.unchanged} already imported")


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
    ratings: Annotated[Path, typer.Argument(help="CSV or XLSX: recording_id, coder, scale, score [, rated_at, notes].")],
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
    fraction: Annotated[float, typer.Option(help="Share of session audio to code, e.g. 0.10.")] = 0.10,
    seed: Annotated[int, typer.Option(help="Random seed; stored with the draw.")] = ...,
    stratify: Annotated[list[str] | None, typer.Option(help=f"Stratify by: {', '.join(STRATIFIERS)} (repeat).")] = None,
    top_up: Annotated[bool, typer.Option(help="Sample only recordings imported since the last draw.")] = False,
) -> None:
    store = ctx.obj.store()
    _report_draw(draw_fidelity(store, fraction=fraction, seed=seed, stratify=tuple(stratify or ()),
                               top_up=top_up, actor=ctx.obj.actor))  # fmt: skip


@sample_app.command(
    "reliability",
    help="Draw the videos to double-code, stratified so that every arm x timepoint cell is represented. "
    f"With --n: {COUNT_ROUNDING}. With --fraction: {FRACTION_ROUNDING}.",
)
def sample_reliability(
    ctx: typer.Context,
    n: Annotated[int | None, typer.Option(help="How many videos, e.g. 8.")] = None,
    fraction: Annotated[float | None, typer.Option(help="Or a share of the videos.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; stored with the draw.")] = ...,
    top_up: Annotated[bool, typer.Option(help="Sample only videos imported since the last draw (with --fraction).")] = False,
) -> None:
    store = ctx.obj.store()
    _report_draw(draw_reliability(store, seed=seed, n=n, fraction=fraction, top_up=top_up, actor=ctx.obj.actor))


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


@app.command()
def assign(
    ctx: typer.Context,
    coders: Annotated[list[str], typer.Argument(help="Coder account names.")],
    kind: Annotated[str, typer.Option(help="video (EA raters) or audio (fidelity coders).")] = "video",
    recordings: Annotated[str, typer.Option(help="all, unassigned, training, draw:N, or comma-separated codes.")] = "all",
    scale: Annotated[list[str] | None, typer.Option(help="Scales to code (repeat); default every scale for the kind.")] = None,
    split: Annotated[bool, typer.Option(help="Deal the recordings out among the coders instead of giving each all.")] = False,
    seed: Annotated[int | None, typer.Option(help="Seed of the coding order (default: fresh, recorded in the audit log).")] = None,
    primary: Annotated[str | None, typer.Option(help="The coder whose score counts in the analysis (default: the first "
                                                     "coder a recording is assigned to); fixed once named.")] = None,
) -> None:
    """Put recordings in coders' queues, each coder's in their own random order."""
    store = ctx.obj.store()
    summary = assign_recordings(store, coders, kind=kind, recordings=recordings, scales=scale, split=split,
                                seed=seed, actor=ctx.obj.actor, primary=primary)  # fmt: skip
    for name, count in summary.added.items():
        typer.echo(f"{name}: {count} recordings added to the queue")


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


export_app = typer.Typer(help="Exports for analysis.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("ratings")
def export_ratings_(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or sav (SPSS, with value labels).")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default ratings-blinded-DATE.FORMAT).")] = None,
    unblinded: Annotated[bool, typer.Option(help="Add participant, arm, timepoint, site, session, clinician (PI only; audited).")] = False,
) -> None:
    """Submitted ratings, one row per recording and coder; blinded unless --unblinded."""
    if fmt not in FORMATS:
        fail(f"format must be one of {', '.join(FORMATS)}")
    store = ctx.obj.store()
    account = ctx.obj.pi(store) if unblinded else None
    path = output or Path(default_name(fmt, unblinded))
    rows = export_ratings(store, path, fmt, account, ctx.obj.actor, unblinded)
    typer.echo(f"wrote {rows} rows to {path.name}")


training_app = typer.Typer(help="The training set: master codes that coders are certified against.", no_args_is_help=True)
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


@app.command()
def certification(ctx: typer.Context) -> None:
    """Each coder's agreement with the master codes, and who is certified (PI only)."""
    store = ctx.obj.store()
    status = certification_status(store, ctx.obj.pi(store))
    if status.table.empty:
        fail("no scale has a training set: set master codes with `obscode training import FILE`")
    typer.echo(f"rule: {status.rule.describe()}")
    typer.echo(status.table.to_string(index=False, float_format=lambda x: f"{x:.3f}", na_rep=""))


@app.command()
def report(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Option(help="Folder to write the report and its tables into.")] = Path("."),
) -> None:
    """The reliability report (PI only): standalone HTML with every figure, and the tables as XLSX and zipped CSV."""
    store = ctx.obj.store()
    pi = ctx.obj.pi(store)
    data, consensus = agreement_report(store, pi), consensus_ratings(store, pi)
    names, tables = file_names(), report_tables(data, consensus)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / names["html"]).write_text(report_html(data, consensus), encoding="utf-8")
    (folder / names["xlsx"]).write_bytes(tables_xlsx(tables))
    (folder / names["csv"]).write_bytes(tables_csv_zip(tables))
    typer.echo("wrote " + ", ".join(names.values()))


LAUNCHER = Path(__file__).with_name("web") / "launcher.py"


@app.command()
def run(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for a network; put https in front).")] = "127.0.0.1",
) -> None:
    """Serve the coding app and the PI pages."""
    store = ctx.obj.store()
    environment = os.environ | {"OBSCODE_DATABASE_URL": store.url, "OBSCODE_MEDIA_DIR": str(media_dir(ctx.obj.media))}
    store.dispose()
    arguments = [
        sys.executable, "-m", "streamlit", "run", str(LAUNCHER), "--server.port", str(port),
        "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false", "--client.toolbarMode", "minimal",
        "--theme.primaryColor", "#2f5bd3",
        # A traceback can quote data: coders see a plain error, the details go to the server log.
        "--client.showErrorDetails", "none",
    ]  # fmt: skip
    os.execve(sys.executable, arguments, environment)


lock_app = typer.Typer(help="The database lock: close coding (PI only) before outcomes are unblinded.",
                       invoke_without_command=True)
app.add_typer(lock_app, name="lock")


@lock_app.callback()
def lock_(
    ctx: typer.Context,
    scale: Annotated[str | None, typer.Option(help="Close only this scale (default: the whole study).")] = None,
    reason: Annotated[str, typer.Option(help="Why, for the record (optional).")] = "",
) -> None:
    """Close coding of the whole study, or of one scale: no draft, submission, reopening, consensus or import after it."""
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
    scale: Annotated[str | None, typer.Option(help="The scale whose lock to lift (default: the whole study's).")] = None,
) -> None:
    """Open coding again (PI only); needs a reason."""
    store = ctx.obj.store()
    open_coding(store, ctx.obj.pi(store), scale, reason)
    typer.echo(f"coding open again: {scale or 'the whole study'}")


def _study_outcomes(ctx: typer.Context, interim: str | None, dataset: Path | None, control: str | None,
                    baseline: str | None, **options: object) -> tuple[OutcomeTables, dict]:  # fmt: skip
    """The locked study's outcome tables, and what every output says with them (the rule, what was not counted)."""
    from .outcome_report import dataset_file, outcome_report

    store = ctx.obj.store()
    report = outcome_report(store, ctx.obj.pi(store), interim, control=control, baseline=baseline)
    if dataset is not None:
        dataset.write_bytes(dataset_file(report, dataset.suffix.lstrip(".").lower()))
    tables = outcome_tables(**report.dataset.outcome_inputs(control, baseline), **options)
    return tables, {"rule": report.dataset.describe(), "not_counted": report.dataset.listed.to_dict("records")}


@app.command()
def outcomes(
    ctx: typer.Context,
    file: Annotated[Path | None, typer.Argument(
        help="Long-format scores, CSV or XLSX: participant, arm, timepoint, subscale, score. Without it: the study's "
             "locked scales (PI only, audited), by the codebook's analysis rule.")] = None,
    control: Annotated[str | None, typer.Option(help="The control arm, as the file names it (the study: the codebook's).")] = None,
    threshold: Annotated[float | None, typer.Option(help="For a file: scores at or above it are in class (5.5 on the EA scales).")] = None,
    interim: Annotated[str | None, typer.Option(help="The study before lock: the reason for this interim look (audited).")] = None,
    dataset: Annotated[Path | None, typer.Option(help="The study: also write the analysis dataset (.csv, .xlsx, .sav or .dta).")] = None,
    scale: Annotated[list[str] | None, typer.Option(
        help="LOW:HIGH:STEP for every subscale, or SUBSCALE=LOW:HIGH:STEP (repeat) for each. Default 1:7:0.5.")] = None,
    baseline: Annotated[str | None, typer.Option(help="The baseline timepoint (a file: default 'baseline').")] = None,
    treatment: Annotated[str | None, typer.Option(help="The treatment arm (default: the one arm besides control).")] = None,
    timepoint: Annotated[list[str] | None, typer.Option(
        help="Declare the timepoints, in order (repeat); rows at any other are refused.")] = None,
    complete_case: Annotated[bool, typer.Option(help="Only participants scored on the subscale at every timepoint.")] = False,
    zero_cell_correction: Annotated[bool, typer.Option(
        help="Risk ratio with no events in an arm: add 0.5 to every cell (Haldane-Anscombe) instead of 'undefined'.")] = False,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Outcomes by arm, of a scores file or of the locked study: share in class, difference, ratio, change, scores, follow-up."""
    from .outcomes_file import as_csv, as_json, file_outcomes, print_table  # kept beside the command: one edit here

    said: dict = {}
    if file is not None:
        if control is None or threshold is None:
            fail("a scores file needs --control and --threshold")
        if interim is not None or dataset is not None:
            fail("--interim and --dataset are for the study's own outcomes")
        tables = file_outcomes(file, _parse_scales(scale or ["1:7:0.5"], threshold), control=control,
                               baseline=baseline or "baseline", treatment=treatment, timepoints=timepoint,
                               complete_case=complete_case, correction=zero_cell_correction, confidence=confidence)  # fmt: skip
    else:
        if scale or threshold is not None or timepoint or treatment:
            fail("--scale, --threshold, --timepoint and --treatment are for a file; the study's come from its codebook")
        tables, said = _study_outcomes(ctx, interim, dataset, control, baseline, complete_case=complete_case,
                                       correction=zero_cell_correction, confidence=confidence)  # fmt: skip
    if output is OutputFormat.json:
        typer.echo(json.dumps(json.loads(as_json(tables)) | said, indent=2) if said else as_json(tables))
    elif output is OutputFormat.csv:
        typer.echo(as_csv(tables), nl=False)
        if said:
            typer.echo(said["rule"], err=True)
    else:
        print_table(tables, "those randomised (the allocation)" if said else "those seen at baseline")
        if said:
            typer.echo(said["rule"])
            for row in said["not_counted"]:
                typer.echo(f"not counted: {row['recording']} {row['scale']} ({row['participant']}, {row['timepoint']}): {row['reason']}")
