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

from reliability import band

from . import charts
from .agreement import (
    SHOWN_STATISTICS, AgreementReport, agreement_over_time, disagreements, every_pair_scores, methods_paragraph,
    shown_statistics,
)  # fmt: skip
from .export import neutralised, spreadsheet_csv

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
    return {"html": f"obscode-reliability-report-{day}.html", "xlsx": f"obscode-reliability-tables-{day}.xlsx",
            "csv": f"obscode-reliability-tables-{day}.zip"}  # fmt: skip


def _shown_statistics(report: AgreementReport) -> pd.DataFrame:
    """Each pair's statistics as "estimate [low, high] band", one row per pair."""
    rows = []
    for _, pair in report.pairs.iterrows():
        row = {"scale": pair["subscale"], "coders": f"{pair['coder_a']} and {pair['coder_b']}", "n": int(pair["n"])}
        for key, label, bands in shown_statistics(report.codebook[pair["subscale"]].scale):
            row[label] = (f"{pair[key]:.2f} [{pair[f'{key}_ci_low']:.2f}, {pair[f'{key}_ci_high']:.2f}]"
                          + (f" {band(pair[key], bands)}" if bands else ""))  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows)


def report_tables(report: AgreementReport, consensus: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The report's tables by sheet name: alpha over all coders, every statistic per pair with its
    interval (numbers, for analysis), the disagreements, the consensus ratings and the double-coded
    ratings themselves."""
    apart = [
        disagreements(report, scale, a, b).assign(scale=scale, coder_a=a, coder_b=b)
        for scale, a, b in zip(report.pairs["subscale"], report.pairs["coder_a"], report.pairs["coder_b"], strict=True)
    ]
    return {
        "alpha": report.alphas,
        "pairs": report.pairs.rename(columns={"subscale": "scale"}),
        "disagreements": pd.concat(apart, ignore_index=True) if apart else pd.DataFrame(),
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
    return figure.update_layout(template="plotly_white").to_html(full_html=False, include_plotlyjs=False,
                                                                   config={"displaylogo": False})


def _table(table: pd.DataFrame) -> str:
    if table.empty:
        return '<p class="note">None.</p>'
    return table.to_html(index=False, border=0, float_format=lambda x: f"{x:.3f}", na_rep="", escape=True)


def _scale_section(report: AgreementReport, scale: str, shown: pd.DataFrame) -> str:
    """One scale: every pair's statistics, then pictures of all pairs pooled."""
    definition = report.codebook[scale]
    pooled = every_pair_scores(report, scale)
    parts = [f"<h2>{escape(definition.label)}</h2>", "<h3>Every pair of coders</h3>",
             _table(shown[shown["scale"] == scale].drop(columns="scale"))]  # fmt: skip
    if len(pooled) >= 2:
        figures = [
            charts.confusion_heatmap(pooled, definition.scale, "first coder", "second coder"),
            charts.scatter(pooled, definition.scale, "first coder", "second coder"),
            charts.bland_altman(pooled, "first coder", "second coder"),
            charts.over_time(agreement_over_time(pooled), 8),
        ]
        parts += ["<h3>All pairs together</h3>", '<div class="figures">', *map(_figure, figures), "</div>"]
    return "\n".join(parts)


def report_html(report: AgreementReport, consensus: pd.DataFrame, now: datetime | None = None) -> str:
    """The standalone HTML reliability report."""
    shown = _shown_statistics(report)
    scales = list(dict.fromkeys(report.pairs["subscale"]))
    alphas = report.alphas.assign(band=[band(a, SHOWN_STATISTICS[-1][2]) for a in report.alphas["alpha"]]) if len(report.alphas) else report.alphas
    body = [
        f"<h1>Inter-rater reliability report</h1><p class='note'>obscode, {report_date(now)}. Double-coded live "
        "recordings only (training recordings are left out); by recording code.</p>",
        f"<p><b>For the methods section:</b> {escape(methods_paragraph(report))}</p>" if scales else "<p>No recording has been scored by two coders yet.</p>",
        "<h2>All coders together</h2>", _table(alphas),
        *(_scale_section(report, scale, shown) for scale in scales),
        "<h2>Consensus ratings</h2><p class='note'>Scores the PI settled on where coders disagreed, with the "
        "reasons; kept apart from the coders' own ratings, which all statistics above use.</p>", _table(consensus),
    ]  # fmt: skip
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Inter-rater reliability report</title>"
        f"<style>{_STYLE}</style><script>{get_plotlyjs()}</script></head><body>" + "\n".join(body) + "</body></html>"
    )
