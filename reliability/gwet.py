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
from .result import Estimate
from .scale import Scale

GWET_IRRCAC = "t interval with n - 1 df, Gwet (2008), as irrCAC's gwet.ac1.table"


def gwet_from_table(table: ArrayLike, weights: Weights = "none", *, confidence: float = 0.95) -> Estimate:
    """Gwet's AC1 (``weights="none"``) or AC2 from a q x q table of counts.

    SE as Gwet (2008) and irrCAC (infinite population):
    var = [sum_kl p_kl (w_kl - 2 (1 - AC) T_w (1 - (pi_k + pi_l) / 2) / (q (q - 1)))^2
           - (p_a - 2 (1 - AC) p_e)^2] / (n (1 - p_e)^2);
    interval AC +- t(n - 1) SE, upper end capped at 1.

    Example: irrCAC's ``cont3x3abstractors``.

    >>> r = gwet_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    >>> round(r.estimate, 7), round(r.se, 8)
    (0.8493305, 0.04321747)
    """
    table = np.asarray(table, dtype=float)
    q = table.shape[0]
    w = agreement_weights(q, weights)
    n = int(table.sum())
    if n < 2:
        raise ValueError(f"Gwet's AC needs at least two units scored by both coders, not {n}")
    p = table / n
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    t_w = w.sum()
    p_a = float((w * p).sum())
    p_e = float(t_w * (pi * (1 - pi)).sum() / (q * (q - 1)))
    ac = (p_a - p_e) / (1 - p_e)
    centred = w - 2 * (1 - ac) * t_w * (1 - np.add.outer(pi, pi) / 2) / (q * (q - 1))
    var = ((p * centred**2).sum() - (p_a - 2 * (1 - ac) * p_e) ** 2) / (n * (1 - p_e) ** 2)
    se = float(np.sqrt(max(var, 0.0)))
    half = student_t.ppf((1 + confidence) / 2, n - 1) * se
    name = "Gwet AC1" if weights_name(weights) == "none" else f"Gwet AC2 ({weights_name(weights)})"
    interval = (float(ac - half), float(min(ac + half, 1.0)))
    details = {"p_observed": p_a, "p_expected": p_e}
    return Estimate(name, float(ac), n, interval, se, confidence, GWET_IRRCAC, details=details)


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
