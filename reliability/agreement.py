"""Raw agreement: exact, within a tolerance, on the thresholded class; the confusion matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.special import ndtri

from .contingency import Pairs, paired_levels
from .kappa import kappa_from_table
from .result import Estimate, Estimates
from .scale import Scale

WILSON = "Wilson score interval (Wilson, 1927)"


def wilson_interval(agreeing: ArrayLike, n: ArrayLike, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson's score interval for ``agreeing`` out of ``n``, elementwise (Newcombe 1998, method 3).

    With p = agreeing / n and z = Phi^-1((1 + confidence) / 2):
    centre = (2 n p + z^2) / (2 (n + z^2)), half-width = z sqrt(4 n p (1 - p) + z^2) / (2 (n + z^2));
    the lower end is 0 when none agree and the upper end 1 when all do (as scipy's binomtest).
    """
    agreeing, n = np.asarray(agreeing, dtype=float), np.asarray(n, dtype=float)
    z = ndtri(0.5 + 0.5 * confidence)
    p = agreeing / n
    denominator = 2 * (n + z**2)
    centre = (2 * n * p + z**2) / denominator
    half = z / denominator * np.sqrt(4 * n * p * (1 - p) + z**2)
    return np.where(agreeing == 0, 0.0, centre - half), np.where(agreeing == n, 1.0, centre + half)


def within_steps(scale: Scale, within: float) -> int:
    """How many grid steps apart two scores may be to agree ``within`` points."""
    if within < 0:
        raise ValueError(f"within is a distance in points and cannot be negative, not {within:g}")
    return int(np.floor(within / scale.step + 1e-9))


def agreement_tables(tables: np.ndarray, steps: int, confidence: float = 0.95) -> Estimates:
    """Share of units within ``steps`` levels of each other, with Wilson's interval, for each
    k x k table of counts in a batch (..., k, k): sum_ij T_ij [|i - j| <= steps] / n."""
    k = tables.shape[-1]
    close = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) <= steps
    agreeing, n = (tables * close).sum(axis=(-2, -1)), tables.sum(axis=(-2, -1))
    share = agreeing / n
    return Estimates(
        share, np.full(share.shape, np.nan), *wilson_interval(agreeing, n, confidence), np.full(share.shape, "")
    )


def class_tables(tables: np.ndarray, scale: Scale) -> np.ndarray:
    """Each K x K table of level counts (..., K, K) collapsed to 2 x 2 on ``scale``'s threshold:
    C = M^T T M with M_ic = 1 when level i falls in class c (c = 1 at or above the threshold)."""
    upper = np.arange(scale.k) >= scale.threshold_index
    classes = np.stack([~upper, upper], axis=1).astype(tables.dtype)
    return classes.T @ tables @ classes


def _proportion(name: str, agreeing: int, pairs: Pairs, confidence: float) -> Estimate:
    low, high = wilson_interval(agreeing, pairs.n, confidence)
    return Estimate(
        name,
        agreeing / pairs.n,
        pairs.n,
        (float(low), float(high)),
        confidence=confidence,
        method=WILSON,
        n_dropped=pairs.n_dropped,
    )


def percent_agreement(
    a: ArrayLike, b: ArrayLike, scale: Scale, within: float = 0.0, *, confidence: float = 0.95
) -> Estimate:
    """Share of units on which the coders' scores differ by at most ``within`` points.

    ``within=0`` is exact agreement; ``within=1`` on the EA scale counts 5 and 6 as agreeing.
    The interval is Wilson's score interval, as statsmodels' ``proportion_confint(method="wilson")``;
    no SE is reported (the interval is not estimate +- z SE).

    >>> r = percent_agreement([5, 5.5, 6, 3], [5, 6, 7, 3], Scale(1, 7, 0.5), within=0.5)
    >>> r.estimate, r.statistic
    (0.75, 'agreement within 0.5')
    """
    steps = within_steps(scale, within)
    pairs = paired_levels(a, b, scale)
    agreeing = int(np.count_nonzero(np.abs(pairs.a - pairs.b) <= steps))
    name = "exact agreement" if within == 0 else f"agreement within {within:g}"
    return _proportion(name, agreeing, pairs, confidence)


def class_agreement(a: ArrayLike, b: ArrayLike, scale: Scale, *, confidence: float = 0.95) -> tuple[Estimate, Estimate]:
    """Exact agreement and unweighted Cohen's kappa on the class each score falls in.

    The class is ``score >= scale.threshold`` (for EA sensitivity, 5.5 and above is
    *Sensitive*). The share's interval is Wilson's (as :func:`percent_agreement`); kappa's SE and
    interval are Fleiss, Cohen & Everitt's (1969), as statsmodels (see :func:`~reliability.kappa.kappa_from_table`).

    >>> ea = Scale(1, 7, 0.5, threshold=5.5)
    >>> share, kappa = class_agreement([6, 5, 7, 3], [5.5, 5, 5, 3], ea)
    >>> share.estimate, round(kappa.estimate, 3)
    (0.75, 0.5)
    """
    pairs = paired_levels(a, b, scale)
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
    table = paired_levels(a, b, scale).table()
    levels = pd.Index(scale.levels)
    return pd.DataFrame(table, index=levels.rename("coder a"), columns=levels.rename("coder b"))
