"""The ``obscode`` command."""

from __future__ import annotations

import json
import math
from enum import Enum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from reliability import KOO_LI, KRIPPENDORFF, LANDIS_KOCH, RatingsError, Scale, ScoreError, agreement_table, band

from .spreadsheet import SpreadsheetError, read_table

app = typer.Typer(
    help="obscode: blinded observational coding, fidelity rating and inter-rater reliability for clinical trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Observational coding and fidelity rating for clinical trials."""


class OutputFormat(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


# What the terminal table shows: (column prefix, label, interpretation bands).
SHOWN = (
    ("exact_agreement", "exact agreement", None),
    ("within_agreement", "agreement within {within:g}", None),
    ("kappa_linear", "weighted kappa (linear)", LANDIS_KOCH),
    ("kappa_quadratic", "weighted kappa (quadratic)", LANDIS_KOCH),
    ("class_agreement", "class agreement (>= {threshold})", None),
    ("class_kappa", "class kappa (>= {threshold})", LANDIS_KOCH),
    ("ac1", "Gwet AC1", LANDIS_KOCH),
    ("ac2_quadratic", "Gwet AC2 (quadratic)", LANDIS_KOCH),
    ("icc_single", "ICC(A,1)", KOO_LI),
    ("icc_average", "ICC(A,k)", KOO_LI),
    ("alpha", "Krippendorff alpha ({level})", KRIPPENDORFF),
)


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
        for prefix, label, bands in SHOWN:
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
    ratings: Annotated[Path, typer.Argument(help="Long-format ratings, CSV or XLSX: unit, coder, subscale, score.")],
    scale: Annotated[
        list[str],
        typer.Option(help="LOW:HIGH:STEP for every subscale, or SUBSCALE=LOW:HIGH:STEP (repeat) for each."),
    ] = ["1:7:0.5"],  # noqa: B006 - typer reads list defaults this way
    threshold: Annotated[float | None, typer.Option(help="Class cut-off: scores at or above it form the upper class.")] = None,
    within: Annotated[float, typer.Option(help="Tolerance in points for 'agreement within'.")] = 1.0,
    level: Annotated[str, typer.Option(help="Krippendorff alpha's level: nominal, ordinal, interval, ratio.")] = "ordinal",
    confidence: Annotated[float, typer.Option(min=0.5, max=0.999)] = 0.95,
    n_boot: Annotated[int, typer.Option(min=0, help="Bootstrap resamples for alpha's interval (0: none).")] = 1_000,
    seed: Annotated[int, typer.Option(help="Bootstrap seed, so that the table can be reproduced.")] = 1,
    output: Annotated[OutputFormat, typer.Option("--format", help="table, json or csv.")] = OutputFormat.table,
) -> None:
    """Agreement between every pair of coders on every subscale of a ratings file."""
    scales = _parse_scales(scale, threshold)
    try:
        table = agreement_table(
            read_table(ratings), scales, within=within, level=level, confidence=confidence, n_boot=n_boot, seed=seed
        )
    except (SpreadsheetError, RatingsError, ScoreError, ValueError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    if output is OutputFormat.json:
        records = json.loads(table.to_json(orient="records"))
        typer.echo(json.dumps({"settings": table.attrs | {"threshold": threshold}, "rows": records}, indent=2))
    elif output is OutputFormat.csv:
        typer.echo(table.to_csv(index=False), nl=False)
    else:
        _print_table(table, table.attrs | {"threshold": threshold})
