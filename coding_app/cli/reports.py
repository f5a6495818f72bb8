"""Commands that report: agreement, certification, the reliability report, exports, outcomes."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from outcomes import OutcomeTables, outcome_tables
from reliability import COLUMNS, Level, Scale, agreement_table, band

from ..certification_report import certification_status
from ..coder_agreement import SHOWN_STATISTICS, agreement_report, double_coded
from ..consensus import consensus_ratings
from ..export import FORMATS, default_name, export_ratings, spreadsheet_csv
from ..reliability_report import file_names, report_html, report_tables, tables_csv_zip, tables_xlsx
from ..spreadsheet import read_table
from .app import OutputFormat, app, fail, parse_scales


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
            grid.add_row(
                label.format(**settings),
                _number(estimate) or "undefined",
                interval,
                band(estimate, bands) if bands else "",
            )
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
    ratings: Annotated[
        Path | None,
        typer.Argument(
            help="Long-format ratings, CSV or XLSX: unit, coder, subscale, score. Without it: the study's own "
            "submitted ratings, on the codebook's scales."
        ),
    ] = None,
    scale: Annotated[
        list[str] | None,
        typer.Option(
            help="For a file: LOW:HIGH:STEP for every subscale, or SUBSCALE=LOW:HIGH:STEP (repeat) for each. "
            "Default 1:7:0.5."
        ),
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="For a file: scores at or above it form the upper class.")
    ] = None,
    within: Annotated[float, typer.Option(help="Tolerance in points for 'agreement within'.")] = 1.0,
    level: Annotated[Level, typer.Option(help="Krippendorff alpha's level.")] = "ordinal",
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for alpha's interval (0: none).")] = 1_000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed, so that the table can be reproduced.")] = 1,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Agreement between every pair of coders on every subscale: of a ratings file, or of the study."""
    if ratings is not None:
        scales = parse_scales(scale or ["1:7:0.5"], threshold)
        frame = read_table(ratings)
    else:
        if scale or threshold is not None:
            fail("--scale and --threshold are for a ratings file; the study's scales come from its codebook")
        long, codebook = double_coded(ctx.obj.store())
        frame = long.rename(columns={"code": "unit", "scale": "subscale"})[list(COLUMNS)]
        scales = {key: definition.scale for key, definition in codebook.scales.items()}
    table = agreement_table(frame, scales, within=within, level=level, confidence=confidence, n_boot=n_boot, seed=seed)
    thresholds = sorted(
        {s.threshold for s in ([scales] if isinstance(scales, Scale) else scales.values()) if s.threshold is not None}
    )
    settings = table.attrs | {"threshold": ", ".join(f"{t:g}" for t in thresholds) or None}
    if output is OutputFormat.json:
        records = json.loads(table.to_json(orient="records"))
        typer.echo(json.dumps({"settings": settings, "rows": records}, indent=2))
    elif output is OutputFormat.csv:
        typer.echo(spreadsheet_csv(table), nl=False)
    else:
        _print_table(table, settings)


export_app = typer.Typer(help="Exports for analysis.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("ratings")
def export_ratings_(
    ctx: typer.Context,
    fmt: Annotated[str, typer.Option("--format", help="csv, xlsx or sav (SPSS, with value labels).")] = "csv",
    output: Annotated[Path | None, typer.Option(help="File to write (default ratings-blinded-DATE.FORMAT).")] = None,
    unblinded: Annotated[
        bool, typer.Option(help="Add participant, arm, timepoint, site, session, clinician (PI only; audited).")
    ] = False,
) -> None:
    """Submitted ratings, one row per recording and coder; blinded unless --unblinded."""
    if fmt not in FORMATS:
        fail(f"format must be one of {', '.join(FORMATS)}")
    store = ctx.obj.store()
    account = ctx.obj.pi(store) if unblinded else None
    path = output or Path(default_name(fmt, unblinded))
    rows = export_ratings(store, path, fmt, account, ctx.obj.actor, unblinded)
    typer.echo(f"wrote {rows} rows to {path.name}")


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


def _study_outcomes(
    ctx: typer.Context,
    interim: str | None,
    dataset: Path | None,
    control: str | None,
    baseline: str | None,
    *,
    complete_case: bool,
    correction: bool,
    confidence: float,
) -> tuple[OutcomeTables, dict]:
    """The locked study's outcome tables, and what every output says with them (the rule, what was not counted)."""
    from ..outcome_report import dataset_file, outcome_report

    store = ctx.obj.store()
    report = outcome_report(store, ctx.obj.pi(store), interim, control=control, baseline=baseline)
    if dataset is not None:
        dataset.write_bytes(dataset_file(report, dataset.suffix.lstrip(".").lower()))
    tables = outcome_tables(
        **report.dataset.outcome_inputs(control, baseline),
        complete_case=complete_case,
        correction=correction,
        confidence=confidence,
    )
    return tables, {"rule": report.dataset.describe(), "not_counted": report.dataset.listed.to_dict("records")}


@app.command()
def outcomes(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Argument(
            help="Long-format scores, CSV or XLSX: participant, arm, timepoint, subscale, score. "
            "Without it: the study's locked scales (PI only, audited), by the codebook's analysis rule."
        ),
    ] = None,
    control: Annotated[
        str | None, typer.Option(help="The control arm, as the file names it (the study: the codebook's).")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option(help="For a file: scores at or above it are in class (5.5 on the EA scales).")
    ] = None,
    interim: Annotated[
        str | None, typer.Option(help="The study before lock: the reason for this interim look (audited).")
    ] = None,
    dataset: Annotated[
        Path | None, typer.Option(help="The study: also write the analysis dataset (.csv, .xlsx, .sav or .dta).")
    ] = None,
    scale: Annotated[
        list[str] | None,
        typer.Option(
            help="LOW:HIGH:STEP for every subscale, or SUBSCALE=LOW:HIGH:STEP (repeat) for each. Default 1:7:0.5."
        ),
    ] = None,
    baseline: Annotated[str | None, typer.Option(help="The baseline timepoint (a file: default 'baseline').")] = None,
    treatment: Annotated[
        str | None, typer.Option(help="The treatment arm (default: the one arm besides control).")
    ] = None,
    timepoint: Annotated[
        list[str] | None, typer.Option(help="Declare the timepoints, in order (repeat); rows at any other are refused.")
    ] = None,
    complete_case: Annotated[
        bool, typer.Option(help="Only participants scored on the subscale at every timepoint.")
    ] = False,
    zero_cell_correction: Annotated[
        bool,
        typer.Option(
            help="Risk ratio with no events in an arm: add 0.5 to every cell (Haldane-Anscombe) instead of 'undefined'."
        ),
    ] = False,
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Outcomes by arm, of a scores file or of the locked study: share in class, difference, ratio, change, scores,
    follow-up."""
    from ..outcomes_file import as_csv, as_json, file_outcomes, print_table  # kept beside the command: one edit here

    said: dict = {}
    if file is not None:
        if control is None or threshold is None:
            fail("a scores file needs --control and --threshold")
        if interim is not None or dataset is not None:
            fail("--interim and --dataset are for the study's own outcomes")
        tables = file_outcomes(
            file,
            parse_scales(scale or ["1:7:0.5"], threshold),
            control=control,
            baseline=baseline or "baseline",
            treatment=treatment,
            timepoints=timepoint,
            complete_case=complete_case,
            correction=zero_cell_correction,
            confidence=confidence,
        )
    else:
        if scale or threshold is not None or timepoint or treatment:
            fail("--scale, --threshold, --timepoint and --treatment are for a file; the study's come from its codebook")
        tables, said = _study_outcomes(
            ctx,
            interim,
            dataset,
            control,
            baseline,
            complete_case=complete_case,
            correction=zero_cell_correction,
            confidence=confidence,
        )
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
                typer.echo(
                    f"not counted: {row['recording']} {row['scale']} ({row['participant']}, {row['timepoint']}): "
                    f"{row['reason']}"
                )
