"""Raw agreement: exact, within a tolerance, on the thresholded class; the confusion matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import binomtest

from .contingency import Pairs, pair_scores
from .kappa import kappa_from_table
from .result import Estimate
from .scale import Scale

WILSON = "Wilson score interval (Wilson, 1927)"


def _proportion(name: str, agreeing: int, pairs: Pairs, confidence: float) -> Estimate:
    ci = binomtest(agreeing, pairs.n).proportion_ci(confidence, method="wilson")
    interval = (float(ci.low), float(ci.high))
    return Estimate(name, agreeing / pairs.n, pairs.n, interval, confidence=confidence, method=WILSON,
                    n_dropped=pairs.n_dropped)


def percent_agreement(
    a: ArrayLike, b: ArrayLike, scale: Scale, within: float = 0.0, *, confidence: float = 0.95
) -> Estimate:
    """Share of units on which the coders' scores differ by at most ``within`` points.

    ``within=0`` is exact agreement; ``within=1`` on the EA scale counts 5 and 6 as agreeing.
    The interval is Wilson's.

    >>> r = percent_agreement([5, 5.5, 6, 3], [5, 6, 7, 3], Scale(1, 7, 0.5), within=0.5)
    >>> r.estimate, r.statistic
    (0.75, 'agreement within 0.5')
    """
    if within < 0:
        raise ValueError(f"within is a distance in points and cannot be negative, not {within:g}")
    pairs = pair_scores(a, b, scale)
    steps = np.floor(within / scale.step + 1e-9)
    agreeing = int(np.count_nonzero(np.abs(pairs.a - pairs.b) <= steps))
    name = "exact agreement" if within == 0 else f"agreement within {within:g}"
    return _proportion(name, agreeing, pairs, confidence)


def class_agreement(
    a: ArrayLike, b: ArrayLike, scale: Scale, *, confidence: float = 0.95
) -> tuple[Estimate, Estimate]:
    """Exact agreement and unweighted Cohen's kappa on the class each score falls in.

    The class is ``score >= scale.threshold`` (for EA sensitivity, 5.5 and above is
    *Sensitive*). Kappa's interval is analytic (Fleiss, Cohen & Everitt 1969).

    >>> ea = Scale(1, 7, 0.5, threshold=5.5)
    >>> share, kappa = class_agreement([6, 5, 7, 3], [5.5, 5, 5, 3], ea)
    >>> share.estimate, round(kappa.estimate, 3)
    (0.75, 0.5)
    """
    pairs = pair_scores(a, b, scale)
    cut = scale.threshold_index
    classes = Pairs((pairs.a >= cut).astype(np.intp), (pairs.b >= cut).astype(np.intp), 2, pairs.n_dropped)
    share = _proportion("class agreement", int(np.count_nonzero(classes.a == classes.b)), classes, confidence)
    kappa = kappa_from_table(classes.table(), "none", confidence=confidence, n_dropped=classes.n_dropped)
    return share, kappa


def confusion_matrix(a: ArrayLike, b: ArrayLike, scale: Scale) -> pd.DataFrame:
    """Counts of (coder a's score, coder b's score) over every level of the declared grid.

    >>> confusion_matrix([1, 2], [1, 3], Scale(1, 3)).to_numpy().tolist()
    [[1, 0, 0], [0, 0, 1], [0, 0, 0]]
    """
    table = pair_scores(a, b, scale).table()
    levels = pd.Index(scale.levels)
    return pd.DataFrame(table, index=levels.rename("coder a"), columns=levels.rename("coder b"))
