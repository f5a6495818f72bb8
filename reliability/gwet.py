"""Gwet's AC1 (unweighted) and AC2 (weighted) for two coders.

AC = (p_a - p_e) / (1 - p_e), with p_a = sum_kl w_kl p_kl, pi_k = (p_k. + p_.k) / 2 and
p_e = T_w sum_k pi_k (1 - pi_k) / (q (q - 1)), T_w = sum of the weights, q = levels of the
declared scale (Gwet, 2008, Br J Math Stat Psychol 61:29; Gwet, 2014, Handbook of
Inter-Rater Reliability, 4th ed.). Unlike kappa it does not collapse when nearly every unit
falls in one class, which is why it is shown beside kappa.

Its variance comes from Gwet's linearisation over units: a unit scored (k, l) contributes
u_kl = (w_kl - p_e - 2 (1 - AC) (p_e,kl - p_e)) / (1 - p_e), with
p_e,kl = T_w (1 - (pi_k + pi_l) / 2) / (q (q - 1)); the units' mean of u is AC. With
S = sum_kl n_kl (u_kl - AC)^2 over the n units and f = n / N the sampling fraction of a
population of N units (f = 0 for an infinite one), there are two forms:

- ``"raw"``, for raw ratings: var = (1 - f) S / (n (n - 1)), the sample variance of the unit
  terms (divisor n - 1) over n (Gwet 2014; irrCAC's ``gwet.ac1.raw`` in R, ``irrCAC.raw.CAC.gwet``
  in Python);
- ``"table"``, for a table of counts: var = (1 - f) S / n^2 (Gwet 2008; irrCAC's
  ``gwet.ac1.table``, ``irrCAC.table.CAC.gwet``).

On the same units the raw SE is the table SE times sqrt(n / (n - 1)). Both take the t interval
with n - 1 df, as irrCAC. obscode starts from raw ratings, so :func:`gwet_ac` and the agreement
table use the raw form; :func:`gwet_from_table` keeps the table form for callers with a table only.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import t as student_t

from .contingency import Weights, agreement_weights, paired_levels, weights_name
from .result import Estimate, Estimates
from .scale import Scale

Form = Literal["raw", "table"]

METHOD: dict[Form, str] = {
    "raw": "t interval with n - 1 df on Gwet's raw-ratings variance (Gwet 2014), as irrCAC's gwet.ac1.raw",
    "table": "t interval with n - 1 df on Gwet's table variance (Gwet 2008), as irrCAC's gwet.ac1.table",
}


def _gwet_parts(
    tables: np.ndarray, w: np.ndarray, form: Form, population: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """AC, its SE in ``form``, p_a, p_e and n for each q x q table of counts in a batch (..., q, q)."""
    if form not in METHOD:
        raise ValueError(f"form must be 'raw' or 'table', not {form!r}")
    q = tables.shape[-1]
    n = tables.sum(axis=(-2, -1))
    if np.any(n > population):
        raise ValueError(f"the population ({population:g} units) cannot be smaller than the sample ({int(n.max())})")
    p = tables / n[..., None, None]
    pi = (p.sum(axis=-1) + p.sum(axis=-2)) / 2
    t_w = w.sum()
    p_a = (w * p).sum(axis=(-2, -1))
    p_e = t_w * (pi * (1 - pi)).sum(axis=-1) / (q * (q - 1))
    ac = (p_a - p_e) / (1 - p_e)
    p_e_cell = t_w * (1 - (pi[..., :, None] + pi[..., None, :]) / 2) / (q * (q - 1))
    unit_term = (w - p_e[..., None, None] - 2 * (1 - ac)[..., None, None] * (p_e_cell - p_e[..., None, None])) / (
        1 - p_e[..., None, None]
    )
    spread = (tables * (unit_term - ac[..., None, None]) ** 2).sum(axis=(-2, -1))
    var = (1 - n / population) * spread / (n * (n - 1) if form == "raw" else n**2)
    return ac, np.sqrt(var), p_a, p_e, n


def _interval(ac: np.ndarray, se: np.ndarray, n: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """AC -+ t(n - 1) SE, the upper end capped at 1."""
    half = student_t.ppf((1 + confidence) / 2, n - 1) * se
    return ac - half, np.minimum(ac + half, 1.0)


def gwet_tables(
    tables: np.ndarray, weights: Weights = "none", confidence: float = 0.95, *, form: Form = "raw"
) -> Estimates:
    """Gwet's AC1 or AC2 for each q x q table of counts in a batch (..., q, q), SE in ``form``.

    The agreement table's tables count two coders' raw ratings, hence the raw form by default.

    >>> r = gwet_tables(np.array([[[13, 0, 0], [0, 20, 7], [0, 4, 56]]]), form="table")
    >>> np.round(r.se, 8).tolist()
    [0.04321747]
    """
    tables = np.asarray(tables, dtype=float)
    ac, se, _, _, n = _gwet_parts(tables, agreement_weights(tables.shape[-1], weights), form, math.inf)
    return Estimates(ac, se, *_interval(ac, se, n, confidence), np.full(ac.shape, ""))


def _estimate(
    table: np.ndarray, weights: Weights, confidence: float, form: Form, population: float, n_dropped: int
) -> Estimate:
    w = agreement_weights(table.shape[0], weights)
    if int(table.sum()) < 2:
        raise ValueError(f"Gwet's AC needs at least two units scored by both coders, not {int(table.sum())}")
    ac, se, p_a, p_e, n = _gwet_parts(table, w, form, population)
    low, high = _interval(ac, se, n, confidence)
    name = "Gwet AC1" if weights_name(weights) == "none" else f"Gwet AC2 ({weights_name(weights)})"
    details = {"p_observed": float(p_a), "p_expected": float(p_e)}
    return Estimate(
        name,
        float(ac),
        int(n),
        (float(low), float(high)),
        float(se),
        confidence,
        METHOD[form],
        n_dropped,
        details=details,
    )


def gwet_from_table(
    table: ArrayLike, weights: Weights = "none", *, confidence: float = 0.95, population: float = math.inf
) -> Estimate:
    """Gwet's AC1 (``weights="none"``) or AC2 from a q x q table of counts, SE in the table form.

    var = (1 - f) S / n^2 (Gwet 2008; irrCAC's ``gwet.ac1.table``), f = n / ``population``;
    interval AC +- t(n - 1) SE, upper end capped at 1. For raw ratings use :func:`gwet_ac`,
    whose SE is larger by sqrt(n / (n - 1)).

    Example: irrCAC's ``cont3x3abstractors`` (its README prints SE 0.04321747).

    >>> r = gwet_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    >>> round(r.estimate, 7), round(r.se, 8)
    (0.8493305, 0.04321747)
    """
    return _estimate(np.asarray(table, dtype=float), weights, confidence, "table", population, 0)


def gwet_ac(
    a: ArrayLike,
    b: ArrayLike,
    scale: Scale,
    weights: Weights = "none",
    *,
    confidence: float = 0.95,
    population: float = math.inf,
) -> Estimate:
    """Gwet's AC1 (``weights="none"``) or AC2 between two coders on ``scale``'s grid, SE in the raw form.

    var = (1 - f) / n times the sample variance (divisor n - 1) of the units' AC terms (Gwet 2014;
    irrCAC's ``gwet.ac1.raw``, Python ``irrCAC.raw.CAC(...).gwet()`` with ``categories`` the full
    grid), f = n / ``population``; interval AC +- t(n - 1) SE, upper end capped at 1. Units
    missing either score are dropped and counted (irrCAC would keep a unit scored by one coder in
    pi and n); on the units both scored it is irrCAC's.

    Example (irrCAC prints AC1 0.79381, SE 0.21185 for these ratings):

    >>> r = gwet_ac([6, 6, 6, 6, 5], [6, 6, 6, 6, 6], Scale(1, 7), weights="none")
    >>> round(r.estimate, 5), round(r.se, 5)
    (0.79381, 0.21185)
    """
    pairs = paired_levels(a, b, scale)
    return _estimate(pairs.table().astype(float), weights, confidence, "raw", population, pairs.n_dropped)
