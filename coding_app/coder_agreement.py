"""Agreement on the double-coded recordings, for the PI: every statistic, and where coders part.

Works on the latest submitted rating of each coder, by recording code: no unblinding key.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from reliability import KOO_LI, KRIPPENDORFF, LANDIS_KOCH, STATISTICS, Scale, agreement_table, krippendorff_alpha
from reliability.contingency import TooFewUnitsError

from . import audit
from .accounts import require_role
from .certification import training_recordings
from .codebook import Codebook
from .ratings import submitted_ratings
from .store import Store
from .store.models import Account
from .study import study_codebook

# How each statistic of an agreement table is shown: (column prefix, label, interpretation bands).
SHOWN_STATISTICS = (
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


def shown_statistics(scale: Scale, within: float = 1.0) -> list[tuple[str, str, tuple | None]]:
    """:data:`SHOWN_STATISTICS` with their labels filled in for ``scale`` (class ones only with a threshold)."""
    settings = {
        "within": within,
        "threshold": f"{scale.threshold:g}" if scale.threshold is not None else "",
        "level": "ordinal",
    }
    return [
        (key, label.format(**settings), bands)
        for key, label, bands in SHOWN_STATISTICS
        if scale.threshold is not None or not key.startswith("class_")
    ]


@dataclass(frozen=True)
class AgreementReport:
    ratings: pd.DataFrame
    """Long format, recordings scored by two or more coders: code, coder, scale, score, submitted_at."""
    pairs: pd.DataFrame
    """reliability.agreement_table: one row per scale and coder pair."""
    alphas: pd.DataFrame
    """Krippendorff's alpha over all coders together, per scale."""
    codebook: Codebook
    n_boot: int = 1_000
    """Bootstrap resamples behind the alpha intervals (and any pair's, see :func:`pair_statistics`)."""
    seed: int = 1


def double_coded(store: Store) -> tuple[pd.DataFrame, Codebook]:
    """Live recordings scored by two or more coders (training recordings count toward certification only; a
    recording excluded from the study with its ratings not counted, not at all)."""
    with store.read() as db:
        ratings = submitted_ratings(db, counted_only=True)
        ratings = ratings[~ratings["recording"].isin(training_recordings(db))]
        codebook = study_codebook(db)
    coders = ratings.groupby(["code", "scale"])["coder"].transform("nunique")
    return ratings[coders >= 2][["code", "coder", "scale", "score", "submitted_at"]].reset_index(drop=True), codebook


@audit.refusals("refused.agreement", "agreement")
def agreement_report(
    store: Store, pi: Account, *, n_boot: int = 1_000, seed: int = 1, pair_intervals: bool = True
) -> AgreementReport:
    """Every statistic for every scale and coder pair, and alpha over all coders.

    Alpha's intervals are bootstrapped (``n_boot`` resamples); a pair's alpha needs a bootstrap
    of its own, the one costly statistic, so without ``pair_intervals`` the pairs' alphas come
    without an interval and :func:`pair_statistics` gives one pair's on demand.
    """
    require_role(pi, "pi")
    ratings, codebook = double_coded(store)
    scales = {key: definition.scale for key, definition in codebook.scales.items()}
    long = ratings.rename(columns={"code": "unit", "scale": "subscale"})
    pairs = (
        agreement_table(long, scales, n_boot=n_boot if pair_intervals else 0, seed=seed)
        if len(long)
        else pd.DataFrame(columns=["subscale", "coder_a", "coder_b", "n", *STATISTICS])
    )
    alphas = []
    for key, group in long.groupby("subscale", sort=False):
        matrix = group.pivot(index="coder", columns="unit", values="score")
        try:
            alpha = krippendorff_alpha(matrix.to_numpy(dtype=float), scales[key], "ordinal", n_boot=n_boot, seed=seed)
        except TooFewUnitsError:
            continue
        alphas.append(
            {
                "scale": key,
                "coders": matrix.shape[0],
                "n": alpha.n,
                "alpha": alpha.estimate,
                "ci_low": alpha.ci[0],
                "ci_high": alpha.ci[1],
                "note": alpha.undefined or "",
            }
        )
    return AgreementReport(ratings, pairs, pd.DataFrame(alphas), codebook, n_boot, seed)


def pair_statistics(report: AgreementReport, scale: str, coder_a: str, coder_b: str) -> pd.Series:
    """The pair's row of :attr:`AgreementReport.pairs` with alpha's bootstrap interval (the report's
    ``n_boot`` and ``seed``): the same as agreement_table gives it among every pair."""
    subset = report.ratings[(report.ratings["scale"] == scale) & report.ratings["coder"].isin([coder_a, coder_b])]
    long = subset.rename(columns={"code": "unit", "scale": "subscale"})
    return agreement_table(long, {scale: report.codebook[scale].scale}, n_boot=report.n_boot, seed=report.seed).iloc[0]


def pair_scores(report: AgreementReport, scale: str, coder_a: str, coder_b: str) -> pd.DataFrame:
    """Recordings both coders scored on ``scale``: code, a, b, and when the later of the two was submitted."""
    subset = report.ratings[(report.ratings["scale"] == scale) & report.ratings["coder"].isin([coder_a, coder_b])]
    wide = subset.pivot(index="code", columns="coder", values="score").dropna()
    when = subset.groupby("code")["submitted_at"].max()
    return pd.DataFrame(
        {
            "code": wide.index,
            "a": wide[coder_a].to_numpy(),
            "b": wide[coder_b].to_numpy(),
            "submitted_at": when.reindex(wide.index).to_numpy(),
        }
    )


def every_pair_scores(report: AgreementReport, scale: str) -> pd.DataFrame:
    """:func:`pair_scores` of every coder pair on ``scale``, stacked, with the pair's coders named."""
    pairs = report.pairs[report.pairs["subscale"] == scale]
    stacked = [
        pair_scores(report, scale, a, b).assign(coder_a=a, coder_b=b)
        for a, b in zip(pairs["coder_a"], pairs["coder_b"], strict=True)
    ]
    return (
        pd.concat(stacked, ignore_index=True)
        if stacked
        else pd.DataFrame(columns=["code", "a", "b", "submitted_at", "coder_a", "coder_b"])
    )


def disagreements(report: AgreementReport, scale: str, coder_a: str, coder_b: str) -> pd.DataFrame:
    """Recordings where the pair are more than one point apart or on opposite sides of the threshold."""
    scores = pair_scores(report, scale, coder_a, coder_b)
    threshold = report.codebook[scale].scale.threshold
    apart = (scores["a"] - scores["b"]).abs() > 1
    across = (scores["a"] >= threshold) != (scores["b"] >= threshold) if threshold is not None else False
    flagged = scores[apart | across].copy()
    flagged["reason"] = np.where(apart[apart | across], "more than 1 point apart", "opposite sides of the threshold")
    return flagged.sort_values("code").reset_index(drop=True)


def agreement_over_time(scores: pd.DataFrame, window: int = 8) -> pd.DataFrame:
    """Rolling exact and within-one-point agreement, in the order the pairs were completed (to catch drift)."""
    ordered = scores.sort_values("submitted_at").reset_index(drop=True)
    difference = (ordered["a"] - ordered["b"]).abs()
    return pd.DataFrame(
        {
            "completed": range(1, len(ordered) + 1),
            "submitted_at": ordered["submitted_at"],
            "exact": (difference == 0).astype(float).rolling(window, min_periods=1).mean(),
            "within_one": (difference <= 1).astype(float).rolling(window, min_periods=1).mean(),
        }
    )


_NUMBER_WORDS = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six"}


def methods_paragraph(report: AgreementReport, kind_word: str = "recordings") -> str:
    """A methods sentence for a paper, from the numbers: quadratic weighted kappa with its CI for
    two coders, Krippendorff's alpha (ordinal) for more.

    Example output: "Two raters independently coded 8 videos; quadratic weighted Cohen's kappa was
    1.00 (95% CI 1.00 to 1.00) for maternal sensitivity and 0.89 (0.78 to 1.00) for maternal
    non-intrusiveness."
    """
    if report.pairs.empty:
        return ""
    parts, coders, counts = [], set(), set()
    for key in dict.fromkeys(report.pairs["subscale"]):
        rows = report.pairs[report.pairs["subscale"] == key]
        label = report.codebook[key].label.split(" (")[0].lower()
        coders |= set(rows["coder_a"]) | set(rows["coder_b"])
        if len(rows) == 1:
            row = rows.iloc[0]
            counts.add(int(row["n"]))
            parts.append(
                f"{row['kappa_quadratic']:.2f} ({row['kappa_quadratic_ci_low']:.2f} to "
                f"{row['kappa_quadratic_ci_high']:.2f}) for {label}"
            )
        else:
            alpha = report.alphas[report.alphas["scale"] == key].iloc[0]
            counts.add(int(alpha["n"]))
            parts.append(f"{alpha['alpha']:.2f} ({alpha['ci_low']:.2f} to {alpha['ci_high']:.2f}) for {label}")
    statistic = "quadratic weighted Cohen's kappa" if len(coders) == 2 else "Krippendorff's alpha (ordinal)"
    who = _NUMBER_WORDS.get(len(coders), str(len(coders)))
    n = f"{min(counts)}" if len(counts) == 1 else f"{min(counts)} to {max(counts)}"
    first, *rest = parts
    first = first.replace(" (", " (95% CI ", 1)
    listed = first if not rest else ", ".join([first, *rest[:-1]]) + f" and {rest[-1]}"
    return f"{who} raters independently coded {n} {kind_word}; {statistic} was {listed}."
