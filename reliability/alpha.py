"""Krippendorff's alpha for two or more coders with missing scores, and its unit bootstrap.

alpha = 1 - D_o / D_e = 1 - (n - 1) sum_ck o_ck delta_ck / sum_ck n_c n_k delta_ck
(Krippendorff, 2011, "Computing Krippendorff's alpha-reliability"), where o is the
coincidence matrix of pairable values, n_c its marginals and delta the level's metric.
The point estimate is the ``krippendorff`` package's; the bootstrap reuses its coincidence
algebra, vectorised over resamples.
"""

from __future__ import annotations

from typing import Literal

import krippendorff
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import sparse

from .bootstrap import resolve_seed, summarise
from .contingency import TooFewUnitsError
from .result import Estimate, Estimates, undefined
from .scale import Scale, as_scores, is_missing

Level = Literal["nominal", "ordinal", "interval", "ratio"]
LEVELS: tuple[Level, ...] = ("nominal", "ordinal", "interval", "ratio")

UNDEFINED_REASON = "every pairable score is the same level, so there is no disagreement to expect (D_e = 0)"


def _check_level(level: str, scale: Scale) -> None:
    """Refuse a level of measurement that is unknown, or ratio on a scale with negative levels.

    The ratio metric needs an absolute zero: between -3 and 3 it is 0/0, taken as no distance, so
    alpha would come out undefined for data that disagree.
    """
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    if level == "ratio" and scale.low < 0:
        raise ValueError(f"the ratio level needs a scale with no negative levels, and {scale} starts below 0")


def _distances(level: Level, values: np.ndarray, n_v: np.ndarray) -> np.ndarray:
    """delta_ck for each pair of levels, over a batch of marginals ``n_v`` of shape (..., K).

    nominal: [c != k]; interval: (v_c - v_k)^2; ratio: ((v_c - v_k) / (v_c + v_k))^2;
    ordinal: (sum_{g=c..k} n_g - (n_c + n_k) / 2)^2, which depends on the marginals.
    """
    if level == "ordinal":
        k = values.size
        cumulative = np.cumsum(n_v, axis=-1)
        lower = np.minimum.outer(np.arange(k), np.arange(k))
        between = np.abs(cumulative[..., None, :] - cumulative[..., :, None]) + n_v[..., lower]
        return (between - (n_v[..., :, None] + n_v[..., None, :]) / 2) ** 2
    difference = np.subtract.outer(values, values)
    if level == "nominal":
        return (difference != 0).astype(float)
    if level == "interval":
        return difference**2
    if level == "ratio":
        total = np.add.outer(values, values)
        # A float ``out`` whatever the values' dtype: integer levels must not truncate the ratio.
        return np.divide(difference, total, out=np.zeros(total.shape), where=total != 0) ** 2
    raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")


def unit_coincidences(value_counts: np.ndarray) -> np.ndarray:
    """Each unit's coincidence matrix, (c c^T - diag c) / (m_u - 1), flattened to (U, K*K)."""
    m = value_counts.sum(axis=1)
    outer = value_counts[:, :, None] * value_counts[:, None, :]
    outer[:, np.arange(value_counts.shape[1]), np.arange(value_counts.shape[1])] -= value_counts
    return (outer / (m - 1)[:, None, None]).reshape(value_counts.shape[0], -1)


def alpha_from_coincidences(coincidences: np.ndarray, level: Level, values: np.ndarray) -> np.ndarray:
    """Alpha for each coincidence matrix in a batch (..., K*K); NaN where D_e = 0."""
    k = values.size
    o = coincidences.reshape(*coincidences.shape[:-1], k, k)
    n_v = o.sum(axis=-1)
    n = n_v.sum(axis=-1)
    delta = _distances(level, values, n_v)
    observed = (o * delta).sum(axis=(-2, -1))
    # delta_cc = 0 for every metric, so the diagonal correction of e_ck drops out.
    expected = (n_v[..., :, None] * delta * n_v[..., None, :]).sum(axis=(-2, -1)) / (n - 1)
    return 1 - np.divide(observed, expected, out=np.full_like(observed, np.nan), where=expected > 1e-12)


def alpha_tables(tables: np.ndarray, scale: Scale, level: Level = "ordinal") -> Estimates:
    """Krippendorff's alpha of two coders for each K x K table of level counts in a batch (..., K, K).

    With two coders on every unit the coincidence matrix is o = T + T^T (a unit scored (c, k)
    adds 1 to o_ck and to o_kc, one scored (c, c) adds 2 to o_cc); no interval.
    """
    _check_level(level, scale)
    k = tables.shape[-1]
    coincidences = (tables + np.swapaxes(tables, -1, -2)).reshape(*tables.shape[:-2], k * k).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        alpha = alpha_from_coincidences(coincidences, level, scale.levels)
    nan = np.full(alpha.shape, np.nan)
    return Estimates(alpha, nan, nan, nan, np.where(np.isnan(alpha), UNDEFINED_REASON, ""))


def _value_counts(data: ArrayLike, scale: Scale) -> tuple[np.ndarray, int]:
    """(units x K) counts of each level per unit, and the number of units."""
    values = as_scores(data)
    if values.ndim != 2:
        raise ValueError(f"reliability data must be a coders x units matrix, not of shape {values.shape}")
    coders = data.index if isinstance(data, pd.DataFrame) else np.arange(1, values.shape[0] + 1)
    units = data.columns if isinstance(data, pd.DataFrame) else np.arange(1, values.shape[1] + 1)
    coder_of, unit_of = np.nonzero(~is_missing(values))
    levels = scale.index(values[coder_of, unit_of], lambda i: f"coder {coders[coder_of[i]]}, unit {units[unit_of[i]]}")
    counts = np.bincount(unit_of * scale.k + levels, minlength=values.shape[1] * scale.k)
    return counts.reshape(values.shape[1], scale.k).astype(float), values.shape[1]


def krippendorff_alpha(
    data: ArrayLike,
    scale: Scale,
    level: Level = "ordinal",
    *,
    confidence: float = 0.95,
    n_boot: int = 1_000,
    seed: int | None = None,
) -> Estimate:
    """Krippendorff's alpha of a coders x units matrix (NaN = missing) on ``scale``.

    Units scored by fewer than two coders are not pairable: they are dropped and counted in
    ``n_dropped``; ``n`` is the number of pairable units. The interval resamples pairable units
    ``n_boot`` times and recomputes the whole coefficient (percentile, BCa in
    ``.bootstrap``); ``n_boot=0`` gives no interval. Alpha is undefined (NaN, with the reason)
    when every pairable score is the same.

    Example: Krippendorff (2011), 4 coders x 12 units.

    >>> nan = float("nan")
    >>> data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...         [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...         [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...         [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(krippendorff_alpha(data, Scale(1, 5), "ordinal", n_boot=0).estimate, 3)
    0.815
    """
    _check_level(level, scale)
    counts, n_units = _value_counts(data, scale)
    pairable = counts[counts.sum(axis=1) >= 2]
    name = f"alpha ({level})"
    n, n_dropped = pairable.shape[0], n_units - pairable.shape[0]
    if n < 2:
        raise TooFewUnitsError(
            f"alpha needs at least two units scored by two or more coders; {n} {'was' if n == 1 else 'were'}"
        )
    coincidences = unit_coincidences(pairable)
    values = scale.levels
    if np.isnan(alpha_from_coincidences(coincidences.sum(axis=0), level, values)):
        return undefined(name, n, UNDEFINED_REASON, n_dropped)
    estimate = float(krippendorff.alpha(value_counts=pairable, value_domain=values, level_of_measurement=level))
    details = {"n_pairable_values": float(pairable.sum())}
    if n_boot == 0:
        return Estimate(name, estimate, n, n_dropped=n_dropped, confidence=confidence, details=details)
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n)) + n * np.arange(n_boot)[:, None]
    weights = np.bincount(draws.ravel(), minlength=n_boot * n).reshape(n_boot, n)
    # A unit's coincidences touch a few level pairs only: a sparse product skips the rest.
    resampled = (sparse.csr_array(coincidences).T @ weights.T).T
    replicates = alpha_from_coincidences(resampled, level, values)
    jackknife = alpha_from_coincidences(coincidences.sum(axis=0) - coincidences, level, values)
    boot = summarise(replicates, estimate, jackknife, np.ones(n), confidence, seed)
    method = f"bootstrap percentile over units, B={n_boot}, seed={seed}"
    return Estimate(name, estimate, n, boot.percentile, boot.se, confidence, method, n_dropped, None, boot, details)
