"""Gwet's AC1 (unweighted) and AC2 (weighted) for two coders.

AC = (p_a - p_e) / (1 - p_e), with p_a = sum_kl w_kl p_kl, pi_k = (p_k. + p_.k) / 2 and
p_e = T_w sum_k pi_k (1 - pi_k) / (q (q - 1)), T_w = sum of the weights, q = levels of the
declared scale (Gwet, 2008, Br J Math Stat Psychol 61:29; Gwet, 2014, Handbook of
Inter-Rater Reliability, 4th ed.). Unlike kappa it does not collapse when nearly every unit
falls in one class, which is why it is shown beside kappa.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import t as student_t

from .contingency import Weights, agreement_weights, pair_scores, weights_name
from .result import Estimate, Estimates
from .scale import Scale

GWET_IRRCAC = "t interval with n - 1 df, Gwet (2008), as irrCAC's gwet.ac1.table"


def _gwet_parts(tables: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AC, its SE, p_a, p_e and n for each q x q table of counts in a batch (..., q, q).

    SE as Gwet (2008) and irrCAC (infinite population):
    var = [sum_kl p_kl (w_kl - 2 (1 - AC) T_w (1 - (pi_k + pi_l) / 2) / (q (q - 1)))^2
           - (p_a - 2 (1 - AC) p_e)^2] / (n (1 - p_e)^2).
    """
    q = tables.shape[-1]
    n = tables.sum(axis=(-2, -1))
    p = tables / n[..., None, None]
    pi = (p.sum(axis=-1) + p.sum(axis=-2)) / 2
    t_w = w.sum()
    p_a = (w * p).sum(axis=(-2, -1))
    p_e = t_w * (pi * (1 - pi)).sum(axis=-1) / (q * (q - 1))
    ac = (p_a - p_e) / (1 - p_e)
    centred = w - 2 * (1 - ac)[..., None, None] * t_w * (1 - (pi[..., :, None] + pi[..., None, :]) / 2) / (q * (q - 1))
    var = ((p * centred**2).sum(axis=(-2, -1)) - (p_a - 2 * (1 - ac) * p_e) ** 2) / (n * (1 - p_e) ** 2)
    return ac, np.sqrt(np.maximum(var, 0.0)), p_a, p_e, n


def _interval(ac: np.ndarray, se: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """AC -+ t(n - 1) SE, the upper end capped at 1."""
    half = student_t.ppf((1 + confidence) / 2, n - 1) * se
    return ac - half, np.minimum(ac + half, 1.0)


def gwet_tables(tables: np.ndarray, weights: Weights = "none", confidence: float = 0.95) -> Estimates:
    """Gwet's AC1 or AC2 for each q x q table of counts in a batch (..., q, q), as :func:`gwet_from_table`."""
    tables = np.asarray(tables, dtype=float)
    ac, se, _, _, n = _gwet_parts(tables, agreement_weights(tables.shape[-1], weights))
    return Estimates(ac, se, *_interval(ac, se, n, confidence), np.full(ac.shape, ""))


def gwet_from_table(table: ArrayLike, weights: Weights = "none", *, confidence: float = 0.95) -> Estimate:
    """Gwet's AC1 (``weights="none"``) or AC2 from a q x q table of counts.

    SE as Gwet (2008) and irrCAC (infinite population); interval AC +- t(n - 1) SE, upper end
    capped at 1.

    Example: irrCAC's ``cont3x3abstractors``.

    >>> r = gwet_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    >>> round(r.estimate, 7), round(r.se, 8)
    (0.8493305, 0.04321747)
    """
    table = np.asarray(table, dtype=float)
    w = agreement_weights(table.shape[0], weights)
    if int(table.sum()) < 2:
        raise ValueError(f"Gwet's AC needs at least two units scored by both coders, not {int(table.sum())}")
    ac, se, p_a, p_e, n = _gwet_parts(table, w)
    low, high = _interval(ac, se, n, confidence)
    name = "Gwet AC1" if weights_name(weights) == "none" else f"Gwet AC2 ({weights_name(weights)})"
    details = {"p_observed": float(p_a), "p_expected": float(p_e)}
    return Estimate(name, float(ac), int(n), (float(low), float(high)), float(se), confidence, GWET_IRRCAC,
                    details=details)  # fmt: skip


def gwet_ac(
    a: ArrayLike, b: ArrayLike, scale: Scale, weights: Weights = "none", *, confidence: float = 0.95
) -> Estimate:
    """Gwet's AC1 (``weights="none"``) or AC2 between two coders on ``scale``'s grid.

    Units missing either score are dropped and counted; see :func:`gwet_from_table`.

    >>> r = gwet_ac([6, 6, 6, 6, 5], [6, 6, 6, 6, 6], Scale(1, 7), weights="none")
    >>> round(r.estimate, 3)
    0.794
    """
    pairs = pair_scores(a, b, scale)
    result = gwet_from_table(pairs.table(), weights, confidence=confidence)
    return replace(result, n_dropped=pairs.n_dropped)
