"""Cohen's kappa, unweighted and weighted, with analytic and bootstrap intervals.

kappa_w = (p_o - p_e) / (1 - p_e), with p_o = sum_ij w_ij p_ij and p_e = sum_ij w_ij p_i. p_.j
(Cohen, 1968, Psychol Bull 70:213), weights taken over the declared scale's grid.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm

from .bootstrap import resolve_seed, summarise
from .contingency import Weights, agreement_weights, paired_levels, weights_name
from .result import Estimate, Estimates, undefined
from .scale import Scale

CiMethod = Literal["analytic", "bootstrap", "bca"]

# 1 - p_e below this is taken as zero: expected agreement is 1 and kappa is 0/0.
_UNDEFINED_TOLERANCE = 1e-12
UNDEFINED_REASON = "expected agreement is 1 (both coders gave every unit one and the same score)"

FLEISS_COHEN_EVERITT = "analytic, Fleiss, Cohen & Everitt (1969)"


def kappa_cells(counts: np.ndarray, rows: np.ndarray, cols: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Kappa for a batch of tables given as counts (..., C) of units in cells (rows[c], cols[c]).

    Only occupied cells need be listed, which keeps bootstrap batches small. Undefined kappas
    (p_e = 1) are NaN.
    """
    k = w.shape[0]
    n = counts.sum(axis=-1)
    p_o = counts @ w[rows, cols] / n
    row_share = counts @ np.eye(k)[rows] / n[..., None]
    col_share = counts @ np.eye(k)[cols] / n[..., None]
    p_e = ((row_share @ w) * col_share).sum(axis=-1)
    gap = 1 - p_e
    return np.divide(p_o - p_e, gap, out=np.full_like(gap, np.nan), where=gap > _UNDEFINED_TOLERANCE)


def _occupied(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Counts, row and column indices of the table's occupied cells."""
    rows, cols = np.nonzero(table)
    return table[rows, cols].astype(float), rows, cols


def _standard_errors(
    p: np.ndarray, w: np.ndarray, kappa: ArrayLike, p_e: ArrayLike, n: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Large-sample SE of weighted kappa, and its SE under kappa = 0, for tables p (..., k, k).

    Fleiss, Cohen & Everitt (1969), Psychol Bull 72:323, with wbar_i. = sum_j p_.j w_ij and
    wbar_.j = sum_i p_i. w_ij:
    var = [sum_ij p_ij (w_ij - (wbar_i. + wbar_.j)(1 - kappa))^2 - (kappa - p_e (1 - kappa))^2]
          / (n (1 - p_e)^2);
    var_0 = [sum_ij p_i. p_.j (w_ij - (wbar_i. + wbar_.j))^2 - p_e^2] / (n (1 - p_e)^2).
    The subtracted squares are the means of the summed terms, so each variance is computed as the
    weighted sum of squared deviations from that mean: the same number, without the cancellation
    that left a zero variance at +-1e-14. The divisor is n (a table variance), as statsmodels.
    """
    kappa, p_e, n = (np.asarray(x, dtype=float) for x in (kappa, p_e, n))
    row, col = p.sum(axis=-1), p.sum(axis=-2)
    margin_sum = (col @ w.T)[..., :, None] + (row @ w)[..., None, :]
    scale = n * (1 - p_e) ** 2
    mean = (kappa - p_e * (1 - kappa))[..., None, None]
    var = (p * (w - margin_sum * (1 - kappa)[..., None, None] - mean) ** 2).sum(axis=(-2, -1)) / scale
    var0 = (row[..., :, None] * col[..., None, :] * (w - margin_sum + p_e[..., None, None]) ** 2).sum(
        axis=(-2, -1)
    ) / scale
    return np.sqrt(var), np.sqrt(var0)


def analytic_interval(kappa: ArrayLike, se: ArrayLike, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """kappa -+ z se with z = Phi^-1((1 + confidence) / 2), the upper end capped at 1."""
    half = norm.ppf((1 + confidence) / 2) * np.asarray(se)
    return kappa - half, np.minimum(kappa + half, 1.0)


def kappa_tables(tables: np.ndarray, weights: Weights, confidence: float = 0.95) -> Estimates:
    """Kappa with its analytic SE and interval for each k x k table of counts in a batch (..., k, k).

    The same statistic as :func:`kappa_from_table`, vectorised over the batch (e.g. every coder pair).
    """
    k = tables.shape[-1]
    w = agreement_weights(k, weights)
    rows, cols = np.divmod(np.arange(k * k), k)
    cells = tables.reshape(*tables.shape[:-2], k * k).astype(float)
    kappa = kappa_cells(cells, rows, cols, w)
    n = cells.sum(axis=-1)
    p = tables / n[..., None, None]
    p_e = np.einsum("...i,ij,...j->...", p.sum(axis=-1), w, p.sum(axis=-2))
    with np.errstate(divide="ignore", invalid="ignore"):
        se, _ = _standard_errors(p, w, kappa, p_e, n)
    low, high = analytic_interval(kappa, se, confidence)
    return Estimates(kappa, se, low, high, np.where(np.isnan(kappa), UNDEFINED_REASON, ""))


def _bootstrap_replicates(table: np.ndarray, w: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Kappa on ``n_boot`` resamples of the units.

    Resampling n units with replacement from a k x k table is one multinomial draw over its
    occupied cells, so the cost is O(B k^2), independent of the number of units.
    """
    counts, rows, cols = _occupied(table)
    n = counts.sum()
    draws = np.random.default_rng(seed).multinomial(n, counts / n, size=n_boot)
    return kappa_cells(draws.astype(float), rows, cols, w)


def _jackknife(table: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-unit-out kappa for each occupied cell, and how many units share that cell."""
    counts, rows, cols = _occupied(table)
    left_out = counts - np.eye(counts.size)
    return kappa_cells(left_out, rows, cols, w), counts


def kappa_from_table(
    table: ArrayLike,
    weights: Weights = "quadratic",
    *,
    ci: CiMethod = "analytic",
    confidence: float = 0.95,
    n_boot: int = 10_000,
    seed: int | None = None,
    n_dropped: int = 0,
) -> Estimate:
    """Cohen's kappa from a k x k table of counts (rows: coder A's level, columns: coder B's).

    ``ci="analytic"`` gives estimate +- z * SE, capped at 1, with Fleiss, Cohen & Everitt's (1969)
    variance: a table variance (divisor n), as their published values and statsmodels'
    ``cohens_kappa``. (irrCAC's raw-ratings form, its Conger kappa of two coders, is the same
    kappa with an SE larger by sqrt(n / (n - 1)) and a t(n - 1) interval.)
    ``"bootstrap"`` the percentile interval of ``n_boot`` unit resamples, ``"bca"`` their
    BCa interval (both are in ``.bootstrap`` either way, with the seed). ``details`` holds
    p_observed, p_expected, se_null (SE under kappa = 0), z and the two-sided p_value.

    Example: Fleiss, Cohen & Everitt's table with their agreement weights.

    >>> t = [[106, 10, 4], [22, 28, 10], [2, 12, 6]]
    >>> w = [[1, 0, 4/9], [0, 1, 2/3], [4/9, 2/3, 1]]
    >>> r = kappa_from_table(t, w)
    >>> round(r.estimate, 5), round(r.se, 5), round(r.details["se_null"], 5)
    (0.50706, 0.05699, 0.06534)
    """
    table = np.asarray(table)
    if table.ndim != 2 or table.shape[0] != table.shape[1]:
        raise ValueError(f"a contingency table must be square, not of shape {table.shape}")
    if np.any(table < 0) or not np.all(np.equal(np.mod(table, 1), 0)):
        raise ValueError("a contingency table holds counts: whole numbers of at least 0")
    w = agreement_weights(table.shape[0], weights)
    name = f"kappa ({weights_name(weights)})"
    n = int(table.sum())
    if n < 2:
        raise ValueError(f"kappa needs at least two units scored by both coders, not {n}")
    p = table / n
    p_o = float((w * p).sum())
    p_e = float(p.sum(axis=1) @ w @ p.sum(axis=0))
    kappa = float(kappa_cells(*_occupied(table), w))
    if np.isnan(kappa):
        return undefined(name, n, UNDEFINED_REASON, n_dropped)
    se, se0 = (float(x) for x in _standard_errors(p, w, kappa, p_e, n))
    z = kappa / se0 if se0 > 0 else float("nan")
    details = {
        "p_observed": p_o,
        "p_expected": p_e,
        "se_null": se0,
        "z": z,
        "p_value": float(2 * norm.sf(abs(z))) if se0 > 0 else float("nan"),
    }
    low, high = analytic_interval(kappa, se, confidence)
    interval, method, boot = (float(low), float(high)), FLEISS_COHEN_EVERITT, None
    if ci != "analytic":
        if ci not in ("bootstrap", "bca"):
            raise ValueError(f"ci must be 'analytic', 'bootstrap' or 'bca', not {ci!r}")
        seed = resolve_seed(seed)
        replicates = _bootstrap_replicates(table, w, n_boot, seed)
        boot = summarise(replicates, kappa, *_jackknife(table, w), confidence, seed)
        interval = boot.percentile if ci == "bootstrap" else boot.bca
        method = f"bootstrap {'percentile' if ci == 'bootstrap' else 'BCa'}, B={n_boot}, seed={seed}"
    return Estimate(name, kappa, n, interval, se, confidence, method, n_dropped, None, boot, details)


def cohen_kappa(
    a: ArrayLike,
    b: ArrayLike,
    scale: Scale,
    weights: Weights = "quadratic",
    *,
    ci: CiMethod = "analytic",
    confidence: float = 0.95,
    n_boot: int = 10_000,
    seed: int | None = None,
) -> Estimate:
    """Cohen's kappa between coder ``a`` and coder ``b``, weighted over ``scale``'s grid.

    ``a[i]``, ``b[i]`` score unit ``i``; units missing either score are dropped and counted in
    ``n_dropped``. Weights: ``"none"``, ``"linear"``, ``"quadratic"`` or a k x k matrix of
    agreement weights (see :func:`~reliability.contingency.agreement_weights`). Undefined
    kappa (expected agreement 1) comes back with ``estimate`` NaN and the reason in
    ``undefined``. The SE is Fleiss, Cohen & Everitt's, as statsmodels; other arguments and
    the interval as :func:`kappa_from_table`.

    >>> ea = Scale(1, 7, 0.5)
    >>> r = cohen_kappa([5, 5.5, 6, 3, 4], [5, 6, 6, 3.5, 4], scale=ea, weights="quadratic")
    >>> round(r.estimate, 3), r.n
    (0.955, 5)
    """
    pairs = paired_levels(a, b, scale)
    return kappa_from_table(
        pairs.table(), weights, ci=ci, confidence=confidence, n_boot=n_boot, seed=seed, n_dropped=pairs.n_dropped
    )
