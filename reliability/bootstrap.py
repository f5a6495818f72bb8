"""Bootstrap confidence intervals from replicates: percentile and BCa (Efron, 1987).

The statistics modules draw their own replicates (vectorised, by resampling units) and hand
them here with the jackknife values BCa needs.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm

from .result import Bootstrap


def resolve_seed(seed: int | None) -> int:
    """The seed to use and report: ``seed`` itself, or fresh entropy when it is None."""
    if seed is None:
        # Stub types entropy as what may be passed in (int | Sequence[int] | None); drawn fresh it is an int.
        return int(np.random.SeedSequence().entropy % 2**63)  # type: ignore[operator]
    return int(seed)


def percentile_interval(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    """The ``(1 - confidence)/2`` and ``(1 + confidence)/2`` quantiles of the replicates."""
    tail = (1 - confidence) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail])
    return float(low), float(high)


def bca_interval(
    replicates: np.ndarray,
    estimate: float,
    jackknife: np.ndarray,
    jackknife_counts: np.ndarray,
    confidence: float,
) -> tuple[float, float]:
    """Bias-corrected and accelerated interval (Efron, 1987, JASA 82:171).

    z0 = Phi^-1(#{theta* < theta} + #{theta* = theta}/2) / B),
    a = sum c_i (m - theta_(i))^3 / (6 [sum c_i (m - theta_(i))^2]^(3/2)),
    where theta_(i) are leave-one-unit-out values, each standing for ``c_i`` identical units
    (units in the same cell of a contingency table give the same jackknife value), and m
    their weighted mean. The interval is the replicates' quantiles at
    Phi(z0 + (z0 + z) / (1 - a (z0 + z))) for z = Phi^-1 of each tail.
    """
    b = replicates.size
    below = np.count_nonzero(replicates < estimate) + 0.5 * np.count_nonzero(replicates == estimate)
    if below == 0 or below == b:
        # Every replicate on one side: no bias correction can be estimated.
        return (float("nan"), float("nan"))
    z0 = norm.ppf(below / b)
    deviation = np.average(jackknife, weights=jackknife_counts) - jackknife
    spread = np.dot(jackknife_counts, deviation**2)
    accel = np.dot(jackknife_counts, deviation**3) / (6 * spread**1.5) if spread > 0 else 0.0
    tail = (1 - confidence) / 2
    z = norm.ppf([tail, 1 - tail])
    adjusted = norm.cdf(z0 + (z0 + z) / (1 - accel * (z0 + z)))
    low, high = np.quantile(replicates, adjusted)
    return float(low), float(high)


def summarise(
    replicates: np.ndarray,
    estimate: float,
    jackknife: np.ndarray,
    jackknife_counts: np.ndarray,
    confidence: float,
    seed: int,
) -> Bootstrap:
    """Both intervals and the bootstrap SE; undefined (NaN) replicates are left out and counted."""
    defined = replicates[np.isfinite(replicates)]
    keep = np.isfinite(jackknife)
    nan_pair = (float("nan"), float("nan"))
    return Bootstrap(
        n_boot=replicates.size,
        seed=seed,
        percentile=percentile_interval(defined, confidence) if defined.size else nan_pair,
        bca=bca_interval(defined, estimate, jackknife[keep], jackknife_counts[keep], confidence)
        if defined.size
        else nan_pair,
        se=float(defined.std(ddof=1)) if defined.size > 1 else float("nan"),
        n_undefined=int(replicates.size - defined.size),
    )
