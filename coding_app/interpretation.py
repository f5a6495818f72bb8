"""How a PI reads the agreement figures: each statistic in words, grouped by what it is computed on
(the scale's full grid or its two classes), what each interpretation word means and whose scheme
it is, and table headers in words rather than column names.

Shared by the PI's pages and the downloaded report, so that both say the same thing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from reliability import KOO_LI, KRIPPENDORFF, LANDIS_KOCH, Scale

from .coder_agreement import SHOWN_STATISTICS, shown_statistics

# Whose interpretation words these are, and which statistics they are read against.
REFERENCES = {
    LANDIS_KOCH: ("Landis & Koch (1977), Biometrics 33:159", "kappa and Gwet's AC"),
    KOO_LI: ("Koo & Li (2016), J Chiropr Med 15:155", "the ICC"),
    KRIPPENDORFF: ("Krippendorff (2004), Content Analysis, 2nd ed., p. 241", "Krippendorff's alpha"),
}

# Column names of the domain tables, as a PI reads them (a column not listed keeps its name, spaced).
HEADERS = {
    "code": "recording",
    "subscale": "scale",
    "n": "recordings",
    "alpha": "alpha (ordinal)",
    "ci_low": "95% CI low",
    "ci_high": "95% CI high",
    "band": "interpretation",
    "submitted_at": "submitted (UTC)",
    "certified at": "certified (UTC)",
    "decided_at": "decided (UTC)",
    "at": "when (UTC)",
    "reason": "why",
    "mean_adherence": "mean adherence",
    "sampled_fraction": "share sampled",
    "acceptable_share": "share acceptable",
    "stratified_by": "stratified by",
    "frame": "sessions in frame",
    "tops_up": "tops up draw",
    "by": "made by",
    "in_force": "in force",
    "in_class": "in class",
    "sd_treatment": "SD treatment",
    "sd_control": "SD control",
    "hedges_g": "Hedges' g",
    "value": "agreement with the master",
}


def header(column: str) -> str:
    """A column's header in words, e.g. ci_low -> "95% CI low", risk_ratio_ci_high -> "risk ratio 95% CI high"."""
    if column in HEADERS:
        return HEADERS[column]
    for end in ("ci_low", "ci_high"):
        if column.endswith("_" + end):
            return f"{header(column.removesuffix('_' + end))} {HEADERS[end]}"
    return column.replace("_", " ")


def readable(
    table: pd.DataFrame, labels: dict[str, str] | None = None, headers: dict[str, str] | None = None
) -> pd.DataFrame:
    """``table`` with headers in words (``headers`` first, then :data:`HEADERS`) and scale keys (in a
    scale column) as the codebook's ``labels``."""
    shown = table.copy()
    for column in ("scale", "subscale"):
        if labels and column in shown.columns:
            shown[column] = shown[column].map(lambda key: labels.get(key, key))
    words = headers or {}
    return shown.rename(columns={c: words.get(c) or header(c) for c in shown.columns if isinstance(c, str)})


def legend(bands: tuple[tuple[float, str], ...]) -> str:
    """One scheme's words with their cut-offs and reference, e.g. "Landis & Koch (1977) ... for kappa
    and Gwet's AC: almost perfect 0.81 or more, substantial 0.61 to 0.81, ..., poor below 0"."""
    reference, statistics = REFERENCES[bands]
    parts, upper = [], None
    for bound, word in bands:
        if math.isinf(bound):
            parts.append(f"{word} below {upper:g}")
        elif upper is None:
            parts.append(f"{word} {bound:g} or more")
        else:
            parts.append(f"{word} {bound:g} to under {upper:g}")
        upper = bound
    return f"{reference}, for {statistics}: " + ", ".join(parts) + "."


def statistic_label(key: str) -> str:
    """A statistic's name in words (the certification rule's, for example), e.g. kappa_quadratic -> "weighted
    kappa (quadratic)"."""
    labels = {k: label.format(within=1, threshold="", level="ordinal") for k, label, _ in SHOWN_STATISTICS}
    return labels.get(key, key.replace("_", " "))


@dataclass(frozen=True)
class StatisticGroup:
    title: str
    """What the statistics are computed on, e.g. "On the full scale: 13 levels, 1 to 7 by 0.5"."""
    statistics: list[tuple[str, str, tuple | None]]
    """(column prefix, label, bands) as :func:`coding_app.coder_agreement.shown_statistics` gives them."""


def statistic_groups(scale: Scale) -> list[StatisticGroup]:
    """The shown statistics by what they are computed on: the scale's full grid, then (for a scale
    with a threshold) its two classes. Gwet's AC1 is on the grid's levels, not on the classes."""
    shown = shown_statistics(scale)
    levels = len(scale.levels)
    groups = [
        StatisticGroup(
            f"On the full scale: {levels} levels, {scale.low:g} to {scale.high:g} by {scale.step:g}",
            [s for s in shown if not s[0].startswith("class_")],
        )
    ]
    if scale.threshold is not None:
        below, above = scale.class_labels
        groups.append(
            StatisticGroup(
                f"On the two classes: {above} ({scale.threshold:g} or more) and {below} (below)",
                [s for s in shown if s[0].startswith("class_")],
            )
        )
    return groups


def legends(groups: list[StatisticGroup]) -> list[str]:
    """One legend per interpretation scheme the groups use, in the order first used."""
    schemes = dict.fromkeys(bands for group in groups for _, _, bands in group.statistics if bands)
    return [legend(bands) for bands in schemes]
