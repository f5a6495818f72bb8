"""`obscode outcomes FILE`: the trial's outcome tables of a long-format scores spreadsheet, shown three ways."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from outcomes import Design, OutcomeTables, outcome_tables
from reliability import Scale

from .export import spreadsheet_csv
from .spreadsheet import read_table


def file_outcomes(
    path: Path,
    scales: Mapping[str, Scale] | Scale,
    *,
    control: str,
    baseline: str,
    treatment: str | None = None,
    timepoints: Sequence[str] | None = None,
    complete_case: bool = False,
    correction: bool = False,
    confidence: float = 0.95,
) -> OutcomeTables:
    """The outcome tables of a CSV or XLSX with columns participant, arm, timepoint, subscale, score.

    Every bad row is named by its spreadsheet row number and nothing is computed until the file
    is clean (:class:`~reliability.RatingsError`, or a SpreadsheetError for an unreadable file).
    Participants randomised are those seen at baseline: a file carries no allocation.
    """
    return outcome_tables(
        read_table(path),
        scales,
        Design(control, baseline, treatment, timepoints),
        complete_case=complete_case,
        correction=correction,
        confidence=confidence,
    )


def as_json(tables: OutcomeTables) -> str:
    """One object: ``rows`` and ``follow_up`` as records, undefined values as null."""

    def records(frame: pd.DataFrame) -> list[dict]:
        # Python objects, so that every float is written in full (to_json rounds to 15 digits).
        return frame.astype(object).where(frame.notna(), None).to_dict("records")

    return json.dumps({"rows": records(tables.rows), "follow_up": records(tables.follow_up)}, indent=2)


def as_csv(tables: OutcomeTables) -> str:
    """The rows as CSV, text a spreadsheet would run as a formula neutralised."""
    return spreadsheet_csv(tables.rows)


def _share(events: int, n: int) -> str:
    return f"{events}/{n}" + (f" ({events / n:.1%})" if n else "")


def _number(x: float, digits: int, scale: float = 1.0, sign: str = "") -> str:
    return "-" if math.isnan(x) else f"{x * scale:{sign}.{digits}f}"


def _with_ci(row: pd.Series, name: str, digits: int, scale: float = 1.0) -> str:
    """The estimate with its interval, or "undefined" (a note says why)."""
    if math.isnan(row[name]):
        return "undefined"
    estimate = _number(row[name], digits, scale)
    low, high = row[f"{name}_ci_low"], row[f"{name}_ci_high"]
    return (
        estimate if math.isnan(low) else f"{estimate} ({_number(low, digits, scale)} to {_number(high, digits, scale)})"
    )


def published_table(tables: OutcomeTables) -> pd.DataFrame:
    """The rows as trials publish them: per subscale and timepoint, each arm's n (%) in class, the change from
    baseline, the difference and the risk ratio with their intervals, and each arm's mean (SD); text cells."""
    one, two, ci = tables.treatment, tables.control, f"{tables.confidence:.0%} CI"
    return pd.DataFrame(
        [
            {
                "subscale": row.subscale,
                "timepoint": row.timepoint,
                f"{one} n (%)": _share(row.events_treatment, row.n_treatment),
                f"{two} n (%)": _share(row.events_control, row.n_control),
                f"change {one} (points)": _number(row.change_treatment, 1, 100, "+"),
                f"change {two} (points)": _number(row.change_control, 1, 100, "+"),
                f"difference, points ({ci})": _with_ci(row, "risk_difference", 1, 100),
                f"risk ratio ({ci})": _with_ci(row, "risk_ratio", 2),
                f"{one} mean (SD)": f"{_number(row.mean_treatment, 2)} ({_number(row.sd_treatment, 2)})",
                f"{two} mean (SD)": f"{_number(row.mean_control, 2)} ({_number(row.sd_control, 2)})",
                f"mean difference ({ci})": _with_ci(row, "mean_difference", 2),
                f"Hedges' g ({ci})": _with_ci(row, "hedges_g", 2),
            }
            for _, row in tables.rows.iterrows()
        ]
    )


def print_table(tables: OutcomeTables, randomised: str = "those seen at baseline") -> None:
    """The tables as trials publish them: per subscale the class outcome and the score, then follow-up.

    ``randomised`` says who the follow-up rates are out of (a file has no allocation).
    """
    console = Console()
    # Names come from the file: escaped, so that a bracket in one is shown rather than read as rich markup.
    one, two, ci = escape(tables.treatment), escape(tables.control), f"{tables.confidence:.0%} CI"
    for subscale, rows in tables.rows.groupby("subscale", sort=False):
        threshold = tables.scales[subscale].threshold
        classes = Table(title=f"{escape(subscale)}: in class (score >= {threshold:g})", title_justify="left")
        for header in (
            "timepoint",
            f"{one} n (%)",
            f"{two} n (%)",
            f"change {one}",
            f"change {two}",
            "change difference",
            f"risk difference ({ci})",
            f"risk ratio ({ci})",
        ):
            classes.add_column(header, justify="left" if header == "timepoint" else "right")
        scores = Table(title=f"{escape(subscale)}: score", title_justify="left")
        for header in (
            "timepoint",
            f"{one} mean (SD)",
            f"{two} mean (SD)",
            f"mean difference ({ci})",
            f"Hedges' g ({ci})",
        ):
            scores.add_column(header, justify="left" if header == "timepoint" else "right")
        for _, row in rows.iterrows():
            classes.add_row(
                escape(row.timepoint),
                _share(row.events_treatment, row.n_treatment),
                _share(row.events_control, row.n_control),
                *(_number(row[c], 1, 100, "+") for c in ("change_treatment", "change_control", "change_difference")),
                _with_ci(row, "risk_difference", 1, 100),
                _with_ci(row, "risk_ratio", 2),
            )
            scores.add_row(
                escape(row.timepoint),
                *(
                    f"{_number(row[f'mean_{arm}'], 2)} ({_number(row[f'sd_{arm}'], 2)})"
                    for arm in ("treatment", "control")
                ),
                _with_ci(row, "mean_difference", 2),
                _with_ci(row, "hedges_g", 2),
            )
        console.print(classes)
        console.print(scores)
        console.print()
    follow_up = Table(title="Follow-up: participants seen, of those randomised", title_justify="left")
    for header in ("timepoint", "arm", "n / of", f"rate ({ci})"):
        follow_up.add_column(header, justify="left" if header in ("timepoint", "arm") else "right")
    for _, row in tables.follow_up.iterrows():
        rate = "-" if math.isnan(row.rate) else f"{row.rate:.1%} ({row.ci_low:.1%} to {row.ci_high:.1%})"
        follow_up.add_row(escape(row.timepoint), escape(row.arm), f"{row.n} / {row['of']}", rate)
    console.print(follow_up)
    for note in tables.notes:
        console.print(f"[yellow]note:[/] {escape(note)}")
    correction = (
        ", 0.5 added to every cell of a table with no events in an arm (Haldane-Anscombe)" if tables.correction else ""
    )
    console.print(
        f"{one} against the control {two}. Risk difference: Wald; risk ratio: Katz log{correction}; mean difference: "
        f"pooled-variance t; Hedges' g: normal interval; follow-up: Clopper-Pearson exact, of {randomised}. "
        f"Changes (from {tables.baseline}) and risk differences are in percentage points."
        + (" Complete cases: participants scored at every timepoint." if tables.complete_case else "")
    )
