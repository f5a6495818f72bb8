"""Every agreement statistic for every subscale and coder pair, from long-format ratings."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np
import pandas as pd

from .agreement import class_agreement, percent_agreement
from .alpha import Level, krippendorff_alpha
from .bootstrap import resolve_seed
from .gwet import gwet_ac
from .icc import icc
from .kappa import cohen_kappa
from .result import Estimate
from .scale import Scale, ScoreError, is_missing

COLUMNS = ("unit", "coder", "subscale", "score")
_MAX_LISTED = 20

STATISTICS = (
    "exact_agreement", "within_agreement", "kappa_linear", "kappa_quadratic", "class_agreement",
    "class_kappa", "ac1", "ac2_quadratic", "icc_single", "icc_average", "alpha",
)  # fmt: skip


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


def pair_estimates(
    a: pd.Series, b: pd.Series, scale: Scale, within: float, level: Level, confidence: float, n_boot: int, seed: int
) -> dict[str, Estimate]:
    """Every statistic of one coder pair, keyed as :data:`STATISTICS`; class ones need a threshold."""
    both = np.vstack([a.to_numpy(), b.to_numpy()])
    estimates = {
        "exact_agreement": percent_agreement(a, b, scale, 0, confidence=confidence),
        "within_agreement": percent_agreement(a, b, scale, within, confidence=confidence),
        "kappa_linear": cohen_kappa(a, b, scale, "linear", confidence=confidence),
        "kappa_quadratic": cohen_kappa(a, b, scale, "quadratic", confidence=confidence),
        "ac1": gwet_ac(a, b, scale, "none", confidence=confidence),
        "ac2_quadratic": gwet_ac(a, b, scale, "quadratic", confidence=confidence),
        "icc_single": icc(both, scale, "single", confidence=confidence),
        "icc_average": icc(both, scale, "average", confidence=confidence),
        "alpha": krippendorff_alpha(both, scale, level, confidence=confidence, n_boot=n_boot, seed=seed),
    }
    if scale.threshold is not None:
        estimates["class_agreement"], estimates["class_kappa"] = class_agreement(a, b, scale, confidence=confidence)
    return estimates


def _blank(column: pd.Series) -> np.ndarray:
    return is_missing(column.to_numpy(dtype=object))


def _validate(ratings: pd.DataFrame, scales: Mapping[str, Scale] | Scale) -> pd.DataFrame:
    """The ratings with missing scores dropped and scores as numbers; RatingsError otherwise."""
    missing = [c for c in COLUMNS if c not in ratings.columns]
    if missing:
        raise RatingsError([f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing "
                            f"(the ratings need {', '.join(COLUMNS)})"])  # fmt: skip
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
        problems += [f"row {row}: subscale '{name}' has no declared scale (declared: {declared})"
                     for row, name in frame.loc[unknown, "subscale"].items()]  # fmt: skip
        frame = frame[~unknown]
    frame = frame[~_blank(frame["score"])]
    numbers = pd.Series(np.nan, index=frame.index)
    for subscale, group in frame.groupby("subscale", sort=False):
        scale = scales if isinstance(scales, Scale) else scales[subscale]
        rows = group.index
        try:
            numbers[rows] = scale.levels[scale.index(group["score"].to_numpy(), lambda i: f"row {rows[i]}")]
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
        for coder_a, coder_b in combinations(sorted(wide.columns), 2):
            a, b = wide[coder_a], wide[coder_b]
            n = int((a.notna() & b.notna()).sum())
            if n == 0:
                continue
            if n < 2:
                estimates, notes = {}, ["fewer than two units scored by both coders"]
            else:
                estimates = pair_estimates(a, b, scale, within, level, confidence, n_boot, seed)
                notes = [f"{key} undefined: {e.undefined}" for key, e in estimates.items() if not e.defined]
            row: dict[str, object] = {
                "subscale": subscale, "coder_a": coder_a, "coder_b": coder_b,
                "n": n, "n_unpaired": int((a.notna() ^ b.notna()).sum()),
            }  # fmt: skip
            for key in STATISTICS:
                e = estimates.get(key, Estimate(key, np.nan, n))
                row |= {key: e.estimate, f"{key}_se": e.se, f"{key}_ci_low": e.ci[0], f"{key}_ci_high": e.ci[1]}
            row["notes"] = "; ".join(notes)
            rows.append(row)
    if not rows:
        raise RatingsError(["no subscale has two coders who scored the same unit"])
    table = pd.DataFrame(rows)
    table.attrs = {"within": within, "level": level, "confidence": confidence, "n_boot": n_boot, "seed": seed}
    return table
