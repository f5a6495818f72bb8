"""Everything the Outcomes page and its downloads show, prepared once: tables in the layout trials
publish, the share in class by arm over time, each participant's change of class, follow-up, a
results paragraph, a standalone HTML report (plotly.js inline, nothing fetched), the tables as
XLSX/CSV and the analysis dataset as CSV, XLSX, SPSS and Stata with value labels.

The numbers are :mod:`outcomes`' (no statistics here); the data are
:func:`coding_app.analysis.analysis_dataset`'s (PI only, after lock, audited).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from outcomes import OutcomeTables, check_scores, class_changes, outcome_tables

from .analysis import AnalysisDataset, analysis_dataset
from .export import write_table
from .lock import lock_report
from .outcomes_file import published_table
from .reliability_report import _STYLE, tables_csv_zip, tables_xlsx
from .store import Store
from .store.models import Account

DATASET_FORMATS = ("csv", "xlsx", "sav", "dta")
MIME = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "sav": "application/octet-stream",
    "dta": "application/octet-stream",
}


@dataclass(frozen=True)
class OutcomeReport:
    dataset: AnalysisDataset
    tables: OutcomeTables
    complete_case: OutcomeTables
    changes: pd.DataFrame
    """Participants by arm, class at baseline and class then (:func:`outcomes.class_changes`)."""
    locks: pd.DataFrame
    made_at: datetime

    @property
    def published(self) -> pd.DataFrame:
        return published_table(self.tables)

    def shares(self) -> pd.DataFrame:
        """The share in class per scale, timepoint and arm with its exact interval (the figure's points)."""
        rows = []
        for (scale, timepoint), c in self.tables.comparisons.items():
            for arm, share in ((self.tables.treatment, c.classes.treatment), (self.tables.control, c.classes.control)):
                rows.append((scale, timepoint, arm, share.events, share.n, share.estimate, *share.ci))
        return pd.DataFrame(rows, columns=["scale", "timepoint", "arm", "in_class", "n", "share", "ci_low", "ci_high"])


def outcome_report(
    store: Store, pi: Account, interim: str | None = None, *, control: str | None = None, baseline: str | None = None
) -> OutcomeReport:
    """The whole report of the study's locked scales (all scales, with an interim reason); audited as its dataset read.

    ``control`` and ``baseline`` default to the codebook's (see :meth:`AnalysisDataset.outcome_inputs`).
    """
    dataset = analysis_dataset(store, pi, interim)
    inputs = dataset.outcome_inputs(control, baseline)
    tables = outcome_tables(**inputs)
    changes = class_changes(check_scores(**inputs), inputs["design"].baseline)
    return OutcomeReport(
        dataset,
        tables,
        outcome_tables(**inputs, complete_case=True),
        changes,
        lock_report(store, pi),
        datetime.now(UTC),
    )


def _label(report: OutcomeReport, scale: str) -> str:
    return report.dataset.scales[scale].label


def share_figure(report: OutcomeReport, scale: str) -> go.Figure:
    """The share in class by arm at each timepoint, with its Clopper-Pearson 95% interval."""
    shares = report.shares()
    shares = shares[shares["scale"] == scale]
    figure = go.Figure()
    for arm, points in shares.groupby("arm", sort=False):
        figure.add_trace(
            go.Scatter(
                x=points["timepoint"],
                y=points["share"],
                name=arm,
                mode="lines+markers",
                error_y=dict(
                    type="data",
                    symmetric=False,
                    array=points["ci_high"] - points["share"],
                    arrayminus=points["share"] - points["ci_low"],
                ),
                customdata=points[["in_class", "n"]],
                hovertemplate="%{customdata[0]} of %{customdata[1]}: %{y:.0%}<extra></extra>",
            )
        )
    upper = report.dataset.scales[scale].classes[1]
    figure.update_yaxes(title=f"share {upper}", range=[0, 1.05], tickformat=".0%")
    return figure.update_layout(title=f"{_label(report, scale)}: share {upper} by arm (95% CI)", height=400)


def change_figure(report: OutcomeReport, scale: str) -> go.Figure:
    """Each participant's class at each follow-up against their class at baseline, stacked by arm."""
    classes = report.dataset.scales[scale].classes
    moved = report.changes[report.changes["subscale"] == scale]
    figure = go.Figure()
    colours = {(0, 0): "#c0392b", (0, 1): "#f5b041", (1, 0): "#85c1e9", (1, 1): "#2f5bd3"}
    for (before, then), flows in moved.groupby(["class_baseline", "class_then"]):
        figure.add_trace(
            go.Bar(
                x=[flows["arm"], flows["timepoint"]],
                y=flows["n"],
                name=f"{classes[before]} -> {classes[then]}",
                marker_color=colours[before, then],
            )
        )
    figure.update_yaxes(title="participants")
    return figure.update_layout(
        barmode="stack", height=400, title=f"{_label(report, scale)}: class at each follow-up against baseline, by arm"
    )


def _percent(x: float) -> str:
    return "undefined" if math.isnan(x) else f"{x * 100:.1f}"


def results_paragraph(report: OutcomeReport) -> str:
    """A results paragraph written from the numbers (one sentence per scale at each follow-up, then follow-up)."""
    t, data = report.tables, report.dataset
    sentences = []
    for _, row in t.rows[t.rows["timepoint"] != t.baseline].iterrows():
        upper = data.scales[row.subscale].classes[1]
        rd = (
            "could not be estimated"
            if math.isnan(row.risk_difference)
            else f"{_percent(row.risk_difference)} percentage points (95% CI {_percent(row.risk_difference_ci_low)} to "
            f"{_percent(row.risk_difference_ci_high)})"
        )
        rr = (
            ""
            if math.isnan(row.risk_ratio_ci_low)
            else (
                f"; risk ratio {row.risk_ratio:.2f} "
                f"(95% CI {row.risk_ratio_ci_low:.2f} to {row.risk_ratio_ci_high:.2f})"
            )
        )
        sentences.append(
            f"At {row.timepoint}, {row.events_treatment} of {row.n_treatment} mothers in the {t.treatment} arm and "
            f"{row.events_control} of {row.n_control} in the {t.control} arm were rated {upper} on "
            f"{data.scales[row.subscale].label}: a difference of {rd}{rr}."
        )
    overall = t.follow_up[t.follow_up["arm"] == "all"]
    followed = "; ".join(f"{r.timepoint} {r.n} of {r['of']} ({_percent(r.rate)}%)" for _, r in overall.iterrows())
    return (
        " ".join(sentences) + f" Participants seen: {followed}. Risk differences by the Wald method, risk ratios by "
        f"Katz's log method, follow-up with Clopper-Pearson exact intervals. {data.describe()}"
    )


def report_tables(report: OutcomeReport) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet: the published layout, every number, complete cases, follow-up, class changes,
    what was not counted and why, and the lock's history."""
    return {
        "outcomes": report.published,
        "numbers": report.tables.rows,
        "complete_case": report.complete_case.rows,
        "follow_up": report.tables.follow_up,
        "class_changes": report.changes,
        "not_counted": report.dataset.listed,
        "lock": report.locks,
        "rule": pd.DataFrame({"rule": [report.dataset.describe()]}),
    }


def file_names(report: OutcomeReport) -> dict[str, str]:
    """Download names: the report's date and nothing that could unblind."""
    day = f"{report.made_at:%Y-%m-%d}"
    return {
        "html": f"obscode-outcomes-report-{day}.html",
        "xlsx": f"obscode-outcomes-tables-{day}.xlsx",
        "csv": f"obscode-outcomes-tables-{day}.zip",
    } | {f"dataset_{f}": f"obscode-analysis-dataset-{day}.{f}" for f in DATASET_FORMATS}


def dataset_file(report: OutcomeReport, fmt: str) -> bytes:
    """The analysis dataset in ``fmt`` (csv, xlsx, sav, dta); SPSS and Stata with variable and value labels
    (arm, timepoint, scale and class coded 1..n)."""
    data = report.dataset
    table = data.rows.assign(in_class=data.rows["in_class"].map({0: "below threshold", 1: "at or above threshold"}))
    labels = {
        "participant": "Participant",
        "arm": "Arm (allocation)",
        "timepoint": "Timepoint",
        "scale": "Scale",
        "score": f"Score that counts ({data.rule.score})",
        "class": "Class (scale's own label)",
        "in_class": "At or above the scale's threshold",
        "recording": "Recording (opaque code)",
        "source": "Where the score comes from",
        "coders": "Coders who submitted",
        "n_ratings": "Submitted ratings",
    }
    value_labels = (
        {
            "arm": dict(enumerate(dict.fromkeys([*data.arms, *table["arm"]]), start=1)),
            "timepoint": dict(enumerate(dict.fromkeys([*data.timepoints, *table["timepoint"]]), start=1)),
            "scale": dict(enumerate(data.scales, start=1)),
            "in_class": {0: "below threshold", 1: "at or above threshold"},
        }
        if fmt in ("sav", "dta")
        else {}
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"dataset.{fmt}"
        write_table(table, path, fmt, labels, value_labels)
        return path.read_bytes()


def report_html(report: OutcomeReport) -> str:
    """The standalone HTML outcomes report: every table and figure, plotly.js inline, nothing fetched."""

    def table(frame: pd.DataFrame) -> str:
        if frame.empty:
            return '<p class="note">None.</p>'
        return frame.to_html(index=False, border=0, float_format=lambda x: f"{x:.3f}", na_rep="", escape=True)

    def figure(fig: go.Figure) -> str:
        return fig.update_layout(template="plotly_white").to_html(
            full_html=False, include_plotlyjs=False, config={"displaylogo": False}
        )

    scales = list(dict.fromkeys(report.tables.rows["subscale"]))
    body = [
        f"<h1>Outcomes report</h1><p class='note'>obscode, {report.made_at:%Y-%m-%d}. "
        f"{escape(report.dataset.describe())}</p>",
        f"<p><b>Results:</b> {escape(results_paragraph(report))}</p>",
        f"<h2>Outcomes by arm ({escape(report.tables.treatment)} against {escape(report.tables.control)})</h2>",
        table(report.published),
        *(
            f"<h3>{escape(_label(report, s))}</h3><div class='figures'>{figure(share_figure(report, s))}"
            f"{figure(change_figure(report, s))}</div>"
            for s in scales
        ),
        "<h2>Follow-up</h2>",
        table(report.tables.follow_up),
        "<h2>Complete cases</h2><p class='note'>Participants scored at every timepoint.</p>",
        table(published_table(report.complete_case)),
        "<h2>Not counted</h2>",
        table(report.dataset.listed),
        "<h2>Database lock</h2>",
        table(report.locks),
        *(f"<p class='note'>note: {escape(note)}</p>" for note in report.tables.notes),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Outcomes report</title>"
        f"<style>{_STYLE}</style><script>{get_plotlyjs()}</script></head><body>" + "\n".join(body) + "</body></html>"
    )


__all__ = [
    "DATASET_FORMATS",
    "OutcomeReport",
    "change_figure",
    "dataset_file",
    "file_names",
    "outcome_report",
    "report_html",
    "report_tables",
    "results_paragraph",
    "share_figure",
    "tables_csv_zip",
    "tables_xlsx",
]
