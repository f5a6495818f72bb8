"""The reliability report a PI downloads: one standalone HTML file (figures embedded, plotly.js
inline, nothing fetched from a network), and the same tables as CSV (zipped) and XLSX.

Everything in it is by recording code and coder name, as the agreement page shows; file names
carry the date of the report and nothing else.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from html import escape

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from reliability import KRIPPENDORFF, band

from . import charts
from .coder_agreement import AgreementReport, agreement_over_time, disagreements, every_pair_scores, methods_paragraph
from .export import neutralised, spreadsheet_csv
from .interpretation import StatisticGroup, legend, legends, readable, statistic_groups

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; } h3 { margin-top: 1.5rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: right; }
th { background: #f4f6fb; } td:first-child, th:first-child { text-align: left; }
.figures { display: grid; grid-template-columns: 1fr 1fr; gap: 0.5rem; }
.note { color: #555; font-size: 0.9rem; }
"""


def report_date(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d")


def file_names(now: datetime | None = None) -> dict[str, str]:
    """Download names: the report's date and nothing that could unblind."""
    day = report_date(now)
    return {
        "html": f"obscode-reliability-report-{day}.html",
        "xlsx": f"obscode-reliability-tables-{day}.xlsx",
        "csv": f"obscode-reliability-tables-{day}.zip",
    }


def _shown_statistics(report: AgreementReport, scale: str, group: StatisticGroup) -> pd.DataFrame:
    """One group of a scale's statistics, each pair's as "estimate [low, high] interpretation", one row per pair."""
    rows = []
    for _, pair in report.pairs[report.pairs["subscale"] == scale].iterrows():
        row = {"coders": f"{pair['coder_a']} and {pair['coder_b']}", "recordings": int(pair["n"])}
        for key, label, bands in group.statistics:
            row[label] = f"{pair[key]:.2f} [{pair[f'{key}_ci_low']:.2f}, {pair[f'{key}_ci_high']:.2f}]" + (
                f" {band(pair[key], bands)}" if bands else ""
            )
        rows.append(row)
    return pd.DataFrame(rows)


DISAGREEMENT_COLUMNS = ["scale", "code", "coder_a", "a", "coder_b", "b", "reason", "consensus", "consensus_reason"]


def disagreement_list(report: AgreementReport, consensus: pd.DataFrame) -> pd.DataFrame:
    """Every pair's disagreements (more than a point apart or across the threshold) with the consensus
    score and reason where the PI has settled one (blank where it still waits)."""
    apart = [
        disagreements(report, scale, a, b).assign(scale=scale, coder_a=a, coder_b=b)
        for scale, a, b in zip(report.pairs["subscale"], report.pairs["coder_a"], report.pairs["coder_b"], strict=True)
    ]
    if not apart:
        return pd.DataFrame(columns=DISAGREEMENT_COLUMNS)
    settled = consensus.set_index(["code", "scale"])[["score", "reason"]].rename(
        columns={"score": "consensus", "reason": "consensus_reason"}
    )
    listed = pd.concat(apart, ignore_index=True).join(settled, on=["code", "scale"])
    return listed[DISAGREEMENT_COLUMNS]


def report_tables(report: AgreementReport, consensus: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet name: alpha over all coders, every statistic per pair with its
    interval (numbers, for analysis), the disagreements, the consensus ratings and the double-coded
    ratings themselves."""
    return {
        "alpha": report.alphas,
        "pairs": report.pairs.rename(columns={"subscale": "scale"}),
        "disagreements": disagreement_list(report, consensus),
        "consensus": consensus,
        "double_coded_ratings": report.ratings,
    }


def _naive(table: pd.DataFrame) -> pd.DataFrame:
    """Time zones dropped (UTC kept as the clock): Excel cannot store aware date-times."""
    timed = [c for c in table.columns if table[c].map(lambda v: isinstance(v, datetime)).any()]
    return table.assign(**{c: pd.to_datetime(table[c], utc=True).dt.tz_localize(None) for c in timed})


def tables_xlsx(tables: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, table in tables.items():
            neutralised(_naive(table)).to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


def tables_csv_zip(tables: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, table in tables.items():
            archive.writestr(f"{name}.csv", spreadsheet_csv(table))
    return buffer.getvalue()


def _figure(figure: go.Figure) -> str:
    return figure.update_layout(template="plotly_white").to_html(
        full_html=False, include_plotlyjs=False, config={"displaylogo": False}
    )


def _table(table: pd.DataFrame, scores: tuple[str, ...] = ()) -> str:
    """A table as HTML; ``scores`` are columns of scores on a grid, shown as given (5.5, not 5.500)."""
    if table.empty:
        return '<p class="note">None.</p>'
    formatters = {c: lambda x: "" if pd.isna(x) else f"{x:g}" for c in scores}
    return table.to_html(
        index=False, border=0, float_format=lambda x: f"{x:.3f}", na_rep="", escape=True, formatters=formatters
    )


def alpha_table(report: AgreementReport) -> pd.DataFrame:
    """Alpha over all coders per scale with its interpretation (Krippendorff's words); the note column only when a
    note says something."""
    if report.alphas.empty:
        return report.alphas
    alphas = report.alphas.assign(band=[band(a, KRIPPENDORFF) for a in report.alphas["alpha"]])
    return alphas if alphas["note"].astype(bool).any() else alphas.drop(columns="note")


def _legends(lines: list[str]) -> str:
    return (
        "<p class='note'><b>Interpretation words</b></p><ul class='note'>"
        + "".join(f"<li>{escape(line)}</li>" for line in lines)
        + "</ul>"
    )


def _disagreements(report: AgreementReport, scale: str, listed: pd.DataFrame) -> str:
    """The scale's disagreements, as the agreement page lists them, with the consensus where settled."""
    mine = listed[listed["scale"] == scale].drop(columns="scale")
    waiting = int(mine["consensus"].isna().sum())
    note = (
        f"<p class='note'>{len(mine)} recordings more than a point apart or on opposite sides of the threshold; "
        f"{waiting} waiting for a consensus rating.</p>"
    )
    shown = readable(
        mine,
        headers={
            "coder_a": "first coder",
            "a": "first coder's score",
            "coder_b": "second coder",
            "b": "second coder's score",
            "reason": "why listed",
        },
    )
    return "<h3>Disagreements</h3>" + note + _table(shown, ("first coder's score", "second coder's score", "consensus"))


def _scale_section(report: AgreementReport, scale: str, listed: pd.DataFrame) -> str:
    """One scale: every pair's statistics by what they are computed on, the legends, the disagreements,
    then pictures of all pairs pooled."""
    definition = report.codebook[scale]
    pooled = every_pair_scores(report, scale)
    groups = statistic_groups(definition.scale)
    parts = [f"<h2>{escape(definition.label)}</h2>", "<h3>Every pair of coders</h3>"]
    for group in groups:
        parts += [f"<p><b>{escape(group.title)}</b></p>", _table(_shown_statistics(report, scale, group))]
    parts.append(_legends(legends(groups)))
    parts.append(_disagreements(report, scale, listed))
    if len(pooled) >= 2:
        figures = [
            charts.confusion_heatmap(pooled, definition.scale, "first coder", "second coder"),
            charts.scatter(pooled, definition.scale, "first coder", "second coder"),
            charts.bland_altman(pooled, "first coder", "second coder"),
            charts.over_time(agreement_over_time(pooled), 8),
        ]
        parts += ["<h3>All pairs together</h3>", '<div class="figures">', *map(_figure, figures), "</div>"]
        if definition.scale.threshold is not None:
            parts.append(f"<p class='note'>Scatter, dashed: the {escape(charts.class_boundary(definition.scale))}.</p>")
    return "\n".join(parts)


def report_html(report: AgreementReport, consensus: pd.DataFrame, now: datetime | None = None) -> str:
    """The standalone HTML reliability report."""
    scales = list(dict.fromkeys(report.pairs["subscale"]))
    labels = {key: definition.label for key, definition in report.codebook.scales.items()}
    alphas = alpha_table(report)
    listed = disagreement_list(report, consensus)
    body = [
        f"<h1>Inter-rater reliability report</h1><p class='note'>obscode, {report_date(now)}. Double-coded live "
        "recordings only (training recordings are left out); by recording code.</p>",
        f"<p><b>For the methods section:</b> {escape(methods_paragraph(report))}</p>"
        if scales
        else "<p>No recording has been scored by two coders yet.</p>",
        "<h2>All coders together</h2>",
        _table(readable(alphas, labels)),
        _legends([legend(KRIPPENDORFF)]) if len(alphas) else "",
        *(_scale_section(report, scale, listed) for scale in scales),
        "<h2>Consensus ratings</h2><p class='note'>Scores the PI settled on where coders disagreed, with the "
        "reasons; kept apart from the coders' own ratings, which all statistics above use.</p>",
        _table(readable(consensus, labels), ("score",)),
    ]
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Inter-rater reliability report</title>"
        f"<style>{_STYLE}</style><script>{get_plotlyjs()}</script></head><body>" + "\n".join(body) + "</body></html>"
    )
