"""Intraclass correlation: two-way random effects, absolute agreement.

McGraw & Wong (1996), Psychol Methods 1:30, ICC(A,1) and ICC(A,k); Shrout & Fleiss (1979),
Psychol Bull 86:420, ICC(2,1) and ICC(2,k). From the two-way ANOVA of n units x k coders with
mean squares MSR (units), MSC (coders) and MSE (residual):
ICC(A,1) = (MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n),
ICC(A,k) = (MSR - MSE) / (MSR + (MSC - MSE) / n).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import f as f_dist

from .contingency import TooFewUnitsError
from .result import Estimate, undefined
from .scale import Scale

Measures = Literal["single", "average"]

MCGRAW_WONG = "F interval with Satterthwaite df, McGraw & Wong (1996)"
UNDEFINED_REASON = "every score is the same, so there is no variance to apportion"
NOT_POSITIVE = (
    "the ICC's denominator is not positive: the coders differ from each other at least as much as the units "
    "differ, so the variance cannot be apportioned"
)
# Mean squares are sums of squares of scores: relative rounding below this is noise.
_RELATIVE_TOLERANCE = 1e-12


def _mean_squares(y: np.ndarray) -> tuple[float, float, float]:
    """MSR, MSC, MSE of the two-way ANOVA without replication."""
    n, k = y.shape
    grand = y.mean()
    ss_rows = k * ((y.mean(axis=1) - grand) ** 2).sum()
    ss_cols = n * ((y.mean(axis=0) - grand) ** 2).sum()
    ss_error = ((y - grand) ** 2).sum() - ss_rows - ss_cols
    return ss_rows / (n - 1), ss_cols / (k - 1), max(ss_error, 0.0) / ((n - 1) * (k - 1))


def _single_interval(msr: float, msc: float, mse: float, rho: float, n: int, k: int, confidence: float):
    """McGraw & Wong's interval for ICC(A,1), as pingouin computes it.

    The Satterthwaite df v is written with numerator and denominator multiplied by MSE^2 so
    that it stays finite when the residual vanishes.
    """
    spread = (n * (1 + (k - 1) * rho) - k * rho) * mse
    v_num = (k - 1) * (n - 1) * (k * rho * msc + spread) ** 2
    v_den = (n - 1) * k**2 * rho**2 * msc**2 + spread**2
    # v_den is 0 only with no coder and no residual variance; the bounds are then 1 whatever v is.
    v = v_num / v_den if v_den > 0 else 1.0
    tail = (1 - confidence) / 2
    with np.errstate(divide="ignore", invalid="ignore"):
        f_upper = f_dist.ppf(1 - tail, n - 1, v)
        f_lower = f_dist.ppf(1 - tail, v, n - 1)
        coder_term = k * msc + (k * n - k - n) * mse
        low = n * (msr - f_upper * mse) / (f_upper * coder_term + n * msr)
        high = n * (f_lower * msr - mse) / (coder_term + n * f_lower * msr)
    # A zero-width interval may come out reversed by rounding; beyond rounding it is degenerate data
    # (the Satterthwaite df collapse): no interval rather than a wrong one.
    if not (np.isfinite(low) and np.isfinite(high) and low <= high + 1e-9 * max(1.0, abs(high))):
        return float("nan"), float("nan")
    return float(min(low, high)), float(max(low, high))


def icc(
    data: ArrayLike, scale: Scale, measures: Measures = "single", *, confidence: float = 0.95
) -> Estimate:
    """ICC(A,1) (``measures="single"``) or ICC(A,k) (``"average"``) of a coders x units matrix.

    Scores are validated on ``scale`` and treated as interval. Units missing any coder's
    score are dropped and counted. The interval is McGraw & Wong's F interval; for average
    measures it is the single-measure interval stepped up by Spearman-Brown.

    Example: Shrout & Fleiss (1979), 6 targets x 4 judges, ICC(2,1) = .29.

    >>> sf = [[9, 6, 8, 7, 10, 6], [2, 1, 4, 1, 5, 2], [5, 3, 6, 2, 6, 4], [8, 2, 8, 6, 9, 7]]
    >>> r = icc(sf, Scale(1, 10))
    >>> round(r.estimate, 4), tuple(round(x, 4) for x in r.ci)
    (0.2898, (0.0188, 0.7611))
    """
    if measures not in ("single", "average"):
        raise ValueError(f"measures must be 'single' or 'average', not {measures!r}")
    frame = pd.DataFrame(np.asarray(data, dtype=object))
    complete = frame.loc[:, frame.notna().all(axis=0)]
    name = f"ICC(A,{'1' if measures == 'single' else 'k'})"
    k, n = complete.shape
    if n < 2 or k < 2:
        raise TooFewUnitsError(
            f"the ICC needs at least two coders and two units scored by every coder; {n} {'was' if n == 1 else 'were'}"
        )

    def where(i: int) -> str:
        return f"coder {complete.index[i % k] + 1}, unit {complete.columns[i // k] + 1}"

    y = scale.levels[scale.index(complete.to_numpy().T.ravel(), where)].reshape(n, k)
    n_dropped = frame.shape[1] - n
    msr, msc, mse = _mean_squares(y)
    if msr == 0 and msc == 0 and mse == 0:
        return undefined(name, n, UNDEFINED_REASON, n_dropped)
    single = msr + (k - 1) * mse + k * (msc - mse) / n
    average = msr + (msc - mse) / n
    denominator = single if measures == "single" else average
    if denominator <= _RELATIVE_TOLERANCE * (msr + msc + mse) or single <= _RELATIVE_TOLERANCE * (msr + msc + mse):
        return undefined(name, n, NOT_POSITIVE, n_dropped)
    rho = (msr - mse) / single
    low, high = _single_interval(msr, msc, mse, rho, n, k, confidence)
    if measures == "average":
        rho = (msr - mse) / average
        # Spearman-Brown is monotone only above -1/(k-1); at or below it the bound runs off to -inf.
        if not np.isfinite(low) or 1 + low * (k - 1) <= 1e-9:
            low, high = float("nan"), float("nan")
        else:
            low, high = (x * k / (1 + x * (k - 1)) for x in (low, high))
    details = {"ms_units": msr, "ms_coders": msc, "ms_error": mse, "coders": float(k)}
    interval = (float(low), float(high))
    return Estimate(name, float(rho), n, interval, confidence=confidence, method=MCGRAW_WONG,
                    n_dropped=n_dropped, details=details)
