"""The score as a continuous outcome compared between two arms at one timepoint."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm, t

from .result import NAN, Effect, interval_undefined, undefined

POOLED_T = "pooled-variance t (Student 1908)"
HEDGES = "Hedges' g, small-sample correction 1 - 3/(4(n1 + n2) - 9) (Hedges 1981), normal interval"


@dataclass(frozen=True)
class ArmScores:
    """n, mean and SD (n - 1 denominator) of one arm's scores; NaN where undefined (n = 0; SD: n < 2)."""

    n: int
    mean: float
    sd: float

    @classmethod
    def of(cls, scores: ArrayLike) -> ArmScores:
        """The summary of ``scores`` (numbers; none missing).

        >>> ArmScores.of([4, 5, 6])
        ArmScores(n=3, mean=5.0, sd=1.0)
        """
        x = np.asarray(scores, dtype=float).ravel()
        if np.isnan(x).any():
            raise ValueError("scores must not be missing: drop them first")
        if x.size == 0:
            return cls(0, NAN, NAN)
        # Equal scores have SD exactly 0 (float rounding in the mean could leave a spurious 1e-17).
        sd = NAN if x.size < 2 else 0.0 if np.ptp(x) == 0 else float(np.std(x, ddof=1))
        return cls(int(x.size), float(np.mean(x)), sd)


def _pooled_sd(treatment: ArmScores, control: ArmScores) -> float:
    """sqrt(((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2)); an arm of one adds nothing to the sum."""
    spread = sum((arm.n - 1) * arm.sd**2 for arm in (treatment, control) if arm.n > 1)
    return math.sqrt(spread / (treatment.n + control.n - 2))


def _empty(treatment: ArmScores, control: ArmScores) -> str | None:
    arms = [name for name, arm in (("treatment", treatment), ("control", control)) if arm.n == 0]
    return f"no score in the {' and '.join(arms)} arm{'s' if len(arms) > 1 else ''}" if arms else None


def _too_few(treatment: ArmScores, control: ArmScores) -> str | None:
    """Why the pooled SD cannot be used: too few scores, or none of them differ."""
    if treatment.n + control.n < 3:
        return "fewer than 3 scores in the two arms together (no degrees of freedom for the pooled SD)"
    if _pooled_sd(treatment, control) == 0:
        return "every score in each arm is the same (pooled SD 0)"
    return None


def mean_difference(treatment: ArmScores, control: ArmScores, confidence: float = 0.95) -> Effect:
    """Difference of means m1 - m2 with the pooled-variance t interval.

    m1 - m2 -+ t(df) s_p sqrt(1/n1 + 1/n2), df = n1 + n2 - 2,
    s_p^2 = ((n1 - 1) s1^2 + (n2 - 1) s2^2) / df, t(df) the (1 + confidence)/2 quantile of
    Student's t (Altman 1991, Practical Statistics for Medical Research).

    Student's (1908) sleep data, as R's ``t.test(extra ~ group, sleep, var.equal = TRUE)``
    reports it: -1.58, interval -3.363874 to 0.203874.

    >>> one = ArmScores.of([0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0])
    >>> two = ArmScores.of([1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4])
    >>> r = mean_difference(one, two)
    >>> round(r.estimate, 2), round(r.ci[0], 6), round(r.ci[1], 6)
    (-1.58, -3.363874, 0.203874)
    """
    name = "mean difference"
    if why := _empty(treatment, control):
        return undefined(name, why, confidence, POOLED_T)
    difference = treatment.mean - control.mean
    if why := _too_few(treatment, control):
        return interval_undefined(name, difference, NAN, confidence, POOLED_T, why)
    se = _pooled_sd(treatment, control) * math.sqrt(1 / treatment.n + 1 / control.n)
    half = float(t.ppf((1 + confidence) / 2, treatment.n + control.n - 2)) * se
    return Effect(name, difference, (difference - half, difference + half), se, confidence, POOLED_T)


def hedges_g(treatment: ArmScores, control: ArmScores, confidence: float = 0.95) -> Effect:
    """Hedges' g with its normal interval.

    d = (m1 - m2) / s_p (s_p as in :func:`mean_difference`), g = d (1 - 3/(4(n1 + n2) - 9)),
    SE = sqrt((n1 + n2)/(n1 n2) + g^2/(2(n1 + n2))), interval g -+ z SE (Hedges 1981, J Educ
    Stat 6:107; Hedges & Olkin 1985, Statistical Methods for Meta-Analysis), the formulas the
    source trial used (DESIGN.md). The correction factor is Hedges' approximation to the exact
    gamma-function one, and pingouin's; it is 0 at n1 + n2 = 3, where g is then 0. Borenstein et al.
    (2009, Introduction to Meta-Analysis, ch. 4) scale d's variance by the factor squared instead of
    putting g in it: their SE is slightly smaller.

    Borenstein et al.'s example: means 103 and 100, SDs 5.5 and 4.5, 50 per arm: g = 0.5924.

    >>> r = hedges_g(ArmScores(50, 103, 5.5), ArmScores(50, 100, 4.5))
    >>> round(r.estimate, 4), round(r.se, 4)
    (0.5924, 0.2043)
    """
    name = "Hedges' g"
    if why := _empty(treatment, control) or _too_few(treatment, control):
        return undefined(name, why, confidence, HEDGES)
    n1, n2 = treatment.n, control.n
    g = (treatment.mean - control.mean) / _pooled_sd(treatment, control) * (1 - 3 / (4 * (n1 + n2) - 9))
    se = math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2)))
    half = float(norm.ppf((1 + confidence) / 2)) * se
    return Effect(name, g, (g - half, g + half), se, confidence, HEDGES)


@dataclass(frozen=True)
class ScoreComparison:
    """Each arm's n, mean and SD, the difference of means and Hedges' g, treatment against control."""

    treatment: ArmScores
    control: ArmScores
    mean_difference: Effect
    hedges_g: Effect


def compare_scores(treatment: ArrayLike, control: ArrayLike, confidence: float = 0.95) -> ScoreComparison:
    """The two arms' scores compared: :func:`mean_difference` and :func:`hedges_g`.

    >>> r = compare_scores([5, 6, 6.5, 5.5], [4, 5, 4.5, 5.5])
    >>> r.treatment.mean, r.control.mean, r.mean_difference.estimate, round(r.hedges_g.estimate, 3)
    (5.75, 4.75, 1.0, 1.347)
    """
    one, two = ArmScores.of(treatment), ArmScores.of(control)
    return ScoreComparison(one, two, mean_difference(one, two, confidence), hedges_g(one, two, confidence))
