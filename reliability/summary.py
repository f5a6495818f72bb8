"""Every agreement statistic for every subscale and coder pair, from long-format ratings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from .agreement import agreement_tables, class_tables, within_steps
from .alpha import Level, alpha_tables, krippendorff_alpha
from .bootstrap import resolve_seed
from .gwet import gwet_tables
from .icc import icc_tables
from .kappa import kappa_tables
from .result import Estimates
from .scale import Scale, ScoreError, by_row, is_missing

COLUMNS = ("unit", "coder", "subscale", "score")
_MAX_LISTED = 20

STATISTICS = (
    "exact_agreement",
    "within_agreement",
    "kappa_linear",
    "kappa_quadratic",
    "class_agreement",
    "class_kappa",
    "ac1",
    "ac2_quadratic",
    "icc_single",
    "icc_average",
    "alpha",
)


class RatingsError(ValueError):
    """Long-format ratings that cannot be used. ``problems`` names every row at fault."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems[:_MAX_LISTED])
        more = len(problems) - _MAX_LISTED
        super().__init__(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the ratings:\n{listed}"
            + (f"\n  ... and {more} more" if more > 0 else "")
        )


def table_statistics(
    tables: np.ndarray, scale: Scale, within: float, level: Level, confidence: float
) -> dict[str, Estimates]:
    """Every statistic of :data:`STATISTICS` for each two-coder table of level counts (P, k, k)
    on ``scale``; class ones need a threshold. Intervals are analytic; alpha's are left NaN."""
    estimates = {
        "exact_agreement": agreement_tables(tables, 0, confidence),
        "within_agreement": agreement_tables(tables, within_steps(scale, within), confidence),
        "kappa_linear": kappa_tables(tables, "linear", confidence),
        "kappa_quadratic": kappa_tables(tables, "quadratic", confidence),
        "ac1": gwet_tables(tables, "none", confidence),
        "ac2_quadratic": gwet_tables(tables, "quadratic", confidence),
        "icc_single": icc_tables(tables, scale, "single", confidence=confidence),
        "icc_average": icc_tables(tables, scale, "average", confidence=confidence),
        "alpha": alpha_tables(tables, scale, level),
    }
    if scale.threshold is not None:
        classes = class_tables(tables, scale)
        estimates["class_agreement"] = agreement_tables(classes, 0, confidence)
        estimates["class_kappa"] = kappa_tables(classes, "none", confidence)
    return estimates


def pair_tables(levels: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every coder pair's contingency table from a coders x units matrix of level indices (-1: not scored).

    Returns the pairs' coders a < b (in the order of itertools.combinations), their tables
    (P, k, k) over the units both scored, and how many units only one of the two scored.
    """
    first, second = np.triu_indices(levels.shape[0], 1)
    a, b = levels[first], levels[second]
    both = (a >= 0) & (b >= 0)
    cells = (np.arange(first.size)[:, None] * k + a) * k + b
    tables = np.bincount(cells[both], minlength=first.size * k * k).reshape(first.size, k, k)
    return first, second, tables, ((a >= 0) ^ (b >= 0)).sum(axis=1)


def _alpha_intervals(
    alpha: Estimates, pairs: list[np.ndarray], scale: Scale, level: Level, confidence: float, n_boot: int, seed: int
) -> Estimates:
    """``alpha`` with each pair's bootstrap SE and percentile interval, from its 2 x n scores."""
    boot = [
        krippendorff_alpha(scores, scale, level, confidence=confidence, n_boot=n_boot, seed=seed) for scores in pairs
    ]
    return replace(
        alpha,
        se=np.array([e.se for e in boot]),
        low=np.array([e.ci[0] for e in boot]),
        high=np.array([e.ci[1] for e in boot]),
    )


def _statistic_columns(estimates: dict[str, Estimates], listed: np.ndarray) -> dict[str, np.ndarray]:
    """Every :data:`STATISTICS` column over the ``listed`` pairs, NaN where not computed."""
    columns = {}
    for key in STATISTICS:
        for suffix, field in (("", "estimate"), ("_se", "se"), ("_ci_low", "low"), ("_ci_high", "high")):
            column = np.full(listed.size, np.nan)
            if key in estimates:
                column[listed] = getattr(estimates[key], field)
            columns[key + suffix] = column
    return columns


def _notes(estimates: dict[str, Estimates], listed: np.ndarray) -> np.ndarray:
    """Why any statistic of each ``listed`` pair is undefined; for the others, that too few units were shared."""
    notes = np.full(listed.size, "fewer than two units scored by both coders", dtype=object)
    notes[listed] = [
        "; ".join(f"{key} undefined: {reason}" for key, reason in zip(estimates, reasons, strict=True) if reason)
        for reasons in zip(*(e.undefined for e in estimates.values()), strict=True)
    ]
    return notes


def _blank(column: pd.Series) -> np.ndarray:
    """Missing or blank; numbers take :func:`is_missing`'s fast path, text its general one."""
    return is_missing(column.to_numpy())


def _validate(ratings: pd.DataFrame, scales: Mapping[str, Scale] | Scale) -> pd.DataFrame:
    """The ratings with missing scores dropped and scores as numbers; RatingsError otherwise."""
    missing = [c for c in COLUMNS if c not in ratings.columns]
    if missing:
        raise RatingsError(
            [
                f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing "
                f"(the ratings need {', '.join(COLUMNS)})"
            ]
        )
    frame = ratings.loc[:, list(COLUMNS)].copy()
    for column in ("unit", "coder", "subscale"):
        frame[column] = frame[column].astype("string").str.strip()
    problems = [
        f"row {row}: field '{column}' is blank"
        for column in ("unit", "coder", "subscale")
        for row in frame.index[_blank(frame[column])]
    ]
    frame = frame[~_blank(frame["unit"]) & ~_blank(frame["coder"]) & ~_blank(frame["subscale"])]
    if not isinstance(scales, Scale):
        unknown = ~frame["subscale"].isin(list(scales))
        declared = ", ".join(scales)
        problems += [
            f"row {row}: subscale '{name}' has no declared scale (declared: {declared})"
            for row, name in frame.loc[unknown, "subscale"].items()
        ]
        frame = frame[~unknown]
    frame = frame[~_blank(frame["score"])]
    numbers = pd.Series(np.nan, index=frame.index)
    for subscale, group in frame.groupby("subscale", sort=False):
        scale = scales if isinstance(scales, Scale) else scales[subscale]
        rows = group.index
        try:
            numbers[rows] = scale.levels[scale.index(group["score"].to_numpy(), by_row(rows))]
        except ScoreError as error:
            problems += str(error).split("; ")
    repeated = frame[frame.duplicated(["unit", "coder", "subscale"], keep=False)]
    for _, group in repeated.groupby(["unit", "coder", "subscale"], sort=False):
        rows = " and ".join(str(r) for r in group.index)
        problems.append(f"rows {rows}: the same unit, coder and subscale rated more than once")
    if problems:
        raise RatingsError(problems)
    return frame.assign(score=numbers)


def agreement_table(
    ratings: pd.DataFrame,
    scales: Mapping[str, Scale] | Scale,
    *,
    within: float = 1.0,
    level: Level = "ordinal",
    confidence: float = 0.95,
    n_boot: int = 1_000,
    seed: int | None = None,
) -> pd.DataFrame:
    """One row per subscale x coder pair with every agreement statistic.

    ``ratings`` is long format with columns unit, coder, subscale, score (one row per score;
    a blank score is missing). ``scales`` is one :class:`Scale` for every subscale or a
    mapping subscale -> Scale. Problems are collected over the whole frame and raised
    together as :class:`RatingsError`, each naming its row by the frame's index label (so
    give the frame spreadsheet row numbers as its index when it came from a file).

    Columns: subscale, coder_a, coder_b, n (units both scored), n_unpaired (units only one of
    them scored); for each statistic ``s`` in exact_agreement, within_agreement (scores at
    most ``within`` points apart), kappa_linear, kappa_quadratic, class_agreement and
    class_kappa (on the scale's threshold, NaN without one), ac1, ac2_quadratic, icc_single,
    icc_average and alpha (Krippendorff's, at ``level``, bootstrap interval over ``n_boot``
    resamples): ``s``, ``s_se``, ``s_ci_low``, ``s_ci_high``; and notes saying why any
    statistic is undefined. Pairs sharing no unit are left out. ``.attrs`` holds the settings,
    the seed included, so the table can be reproduced.

    Intervals and their references: AC1/AC2 AC +- t(n - 1) SE on Gwet's raw-ratings variance, as
    irrCAC's raw functions; kappas kappa +- z SE on Fleiss, Cohen & Everitt's variance, as
    statsmodels; agreement shares Wilson's, as statsmodels (no SE); ICCs McGraw & Wong's F
    intervals, as pingouin (no SE); alpha the bootstrap percentile interval.

    >>> ratings = pd.DataFrame({"unit": ["v1", "v1", "v2", "v2", "v3", "v3"],
    ...                         "coder": ["A", "B"] * 3, "subscale": "sensitivity",
    ...                         "score": [5, 5.5, 3, 3, 6, 6.5]})
    >>> row = agreement_table(ratings, Scale(1, 7, 0.5, threshold=5.5), seed=1).iloc[0]
    >>> int(row.n), round(float(row.exact_agreement), 3), float(row.within_agreement)
    (3, 0.333, 1.0)
    """
    seed = resolve_seed(seed)
    clean = _validate(ratings, scales)
    rows = []
    for subscale, group in clean.groupby("subscale", sort=False):
        scale = scales if isinstance(scales, Scale) else scales[subscale]
        wide = group.pivot(index="unit", columns="coder", values="score")
        wide = wide[sorted(wide.columns)]
        scores = wide.to_numpy(dtype=float).T
        scored = ~np.isnan(scores)
        levels = np.where(scored, 0, -1)
        levels[scored] = scale.index(scores[scored])
        first, second, tables, unpaired = pair_tables(levels, scale.k)
        n = tables.sum(axis=(1, 2))
        shared = n > 0
        if not shared.any():
            continue
        enough = n[shared] >= 2
        pairs = np.flatnonzero(shared)[enough]
        estimates = table_statistics(tables[pairs], scale, within, level, confidence)
        if n_boot:
            both = [scores[[first[p], second[p]]] for p in pairs]
            estimates["alpha"] = _alpha_intervals(estimates["alpha"], both, scale, level, confidence, n_boot, seed)
        rows.append(
            pd.DataFrame(
                {
                    "subscale": subscale,
                    "coder_a": wide.columns[first[shared]],
                    "coder_b": wide.columns[second[shared]],
                    "n": n[shared],
                    "n_unpaired": unpaired[shared],
                    **_statistic_columns(estimates, enough),
                    "notes": _notes(estimates, enough),
                }
            )
        )
    if not rows:
        raise RatingsError(["no subscale has two coders who scored the same unit"])
    table = pd.concat(rows, ignore_index=True)
    table.attrs = {"within": within, "level": level, "confidence": confidence, "n_boot": n_boot, "seed": seed}
    return table
