"""A single proportion (follow-up rate, share in class, fidelity share acceptable) with its exact interval."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import beta

from .result import NAN

CLOPPER_PEARSON = "Clopper-Pearson exact (Clopper & Pearson 1934)"


def clopper_pearson(events: ArrayLike, n: ArrayLike, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Clopper-Pearson exact interval for ``events`` of ``n``, elementwise over arrays.

    With alpha = 1 - confidence: low = B(alpha/2; x, n - x + 1) (0 when x = 0) and
    high = B(1 - alpha/2; x + 1, n - x) (1 when x = n), B(q; a, b) the beta quantile
    (Clopper & Pearson 1934, Biometrika 26:404). NaN where n = 0.

    Newcombe (1998, Stat Med 17:857) gives 0.0000 to 0.1684 for 0/20:

    >>> low, high = clopper_pearson(0, 20)
    >>> round(float(low), 4), round(float(high), 4)
    (0.0, 0.1684)
    """
    x, n = np.broadcast_arrays(np.asarray(events, dtype=float), np.asarray(n, dtype=float))
    if np.any(x < 0) or np.any(x > n):
        raise ValueError("events must lie between 0 and n")
    tail = (1 - confidence) / 2
    seen = n > 0
    # beta(0, .) and beta(., 0) are not distributions: the bounds there are 0 and 1 by definition.
    with np.errstate(invalid="ignore"):
        low = np.where(x > 0, beta.ppf(tail, np.maximum(x, 1), n - x + 1), 0.0)
        high = np.where(x < n, beta.ppf(1 - tail, x + 1, np.maximum(n - x, 1)), 1.0)
    return np.where(seen, low, np.nan), np.where(seen, high, np.nan)


@dataclass(frozen=True)
class Proportion:
    """``events`` of ``n`` with the Clopper-Pearson interval; NaN with the reason when n = 0."""

    events: int
    n: int
    estimate: float
    ci: tuple[float, float]
    confidence: float = 0.95
    method: str = CLOPPER_PEARSON
    undefined: str | None = None

    @property
    def defined(self) -> bool:
        return not math.isnan(self.estimate)


def proportion(events: int, n: int, confidence: float = 0.95) -> Proportion:
    """The share ``events / n`` with its Clopper-Pearson exact interval (see :func:`clopper_pearson`).

    Newcombe (1998, Stat Med 17:857): 81/263 has the exact interval 0.2527 to 0.3676.

    >>> p = proportion(81, 263)
    >>> round(p.estimate, 4), round(p.ci[0], 4), round(p.ci[1], 4)
    (0.308, 0.2527, 0.3676)
    >>> proportion(0, 0).undefined
    'no one to count (n = 0)'
    """
    if n == 0:
        return Proportion(events, n, NAN, (NAN, NAN), confidence, undefined="no one to count (n = 0)")
    low, high = clopper_pearson(events, n, confidence)
    return Proportion(events, n, events / n, (float(low), float(high)), confidence)
