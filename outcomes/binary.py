"""A binary class outcome (e.g. Sensitive or not) compared between two arms at one timepoint.

Conventions: arm 1 is the treatment arm with ``a`` events of ``n1``, arm 2 the control arm with
``c`` events of ``n2``; differences are treatment minus control, ratios treatment over control;
proportions are fractions (0.25, not 25 %).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.stats import norm

from .proportion import Proportion, proportion
from .result import NAN, Effect, interval_undefined, undefined

WALD = "Wald (normal approximation, unpooled variance)"
KATZ = "Katz log (Katz et al. 1978)"
HALDANE = "0.5 added to every cell (Haldane-Anscombe) because a cell is zero"


def _z(confidence: float) -> float:
    return float(norm.ppf((1 + confidence) / 2))


def _empty_arm(n1: int, n2: int) -> str | None:
    """Why nothing can be compared when an arm has no one, else None."""
    arms = [name for name, n in (("treatment", n1), ("control", n2)) if n == 0]
    return f"no one in the {' and '.join(arms)} arm{'s' if len(arms) > 1 else ''}" if arms else None


def _check(a: int, n1: int, c: int, n2: int) -> None:
    if not (0 <= a <= n1 and 0 <= c <= n2):
        raise ValueError(f"events must lie between 0 and n in each arm, not {a} of {n1} and {c} of {n2}")


def risk_difference(a: int, n1: int, c: int, n2: int, confidence: float = 0.95) -> Effect:
    """Risk difference d = a/n1 - c/n2 with the Wald interval d -+ z sqrt(p1(1 - p1)/n1 + p2(1 - p2)/n2).

    z = Phi^-1((1 + confidence)/2) (Newcombe 1998, Stat Med 17:873, method 1). The interval is
    not truncated to [-1, 1]. When every participant in each arm is in the same class the
    variance is 0 and the interval has zero width, an aberration Newcombe names: it is then
    reported undefined, with the estimate kept.

    Newcombe's example (a): 56/70 against 48/80 gives 0.0575 to 0.3425.

    >>> r = risk_difference(56, 70, 48, 80)
    >>> round(r.estimate, 4), round(r.ci[0], 4), round(r.ci[1], 4)
    (0.2, 0.0575, 0.3425)
    """
    _check(a, n1, c, n2)
    name = "risk difference"
    if why := _empty_arm(n1, n2):
        return undefined(name, why, confidence, WALD)
    p1, p2 = a / n1, c / n2
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if se == 0:
        return interval_undefined(
            name,
            p1 - p2,
            se,
            confidence,
            WALD,
            "everyone in each arm is in the same class, so the Wald interval has zero width",
        )
    half = _z(confidence) * se
    return Effect(name, p1 - p2, (p1 - p2 - half, p1 - p2 + half), se, confidence, WALD)


def risk_ratio(a: int, n1: int, c: int, n2: int, confidence: float = 0.95, *, correction: bool = False) -> Effect:
    """Risk ratio RR = (a/n1) / (c/n2) with the Katz log interval exp(ln RR -+ z sqrt(1/a - 1/n1 + 1/c - 1/n2)).

    Katz, Baptista, Azen & Pike (1978), Biometrics 34:469; Altman (1991), Practical Statistics
    for Medical Research. With no events in an arm (a = 0 or c = 0) the ratio
    or its log is not finite: it is reported undefined with the reason, never as 0 or inf.
    ``correction=True`` then adds 0.5 to every cell of the 2 x 2 table (a, n1 - a, c, n2 - c;
    Haldane 1956, Anscombe 1956; the Cochrane Handbook's convention), and ``method`` says so.
    (statsmodels' ``Table2x2(shift_zeros=True)`` adds 0.5 to the zero cells only.) When
    every participant in both arms is in class, RR = 1 and the interval has zero width: it is
    reported undefined.

    >>> r = risk_ratio(20, 40, 10, 40)
    >>> round(r.estimate, 3), round(r.ci[0], 3), round(r.ci[1], 3)
    (2.0, 1.076, 3.717)
    >>> risk_ratio(3, 10, 0, 12).undefined
    'no one in the control arm is in class (0 of 12): the ratio divides by zero'
    >>> round(risk_ratio(3, 10, 0, 12, correction=True).estimate, 3)
    8.273
    """
    _check(a, n1, c, n2)
    name = "risk ratio"
    if why := _empty_arm(n1, n2):
        return undefined(name, why, confidence, KATZ)
    zero = a == 0 or c == 0
    if zero and correction:
        return _katz(name, a + 0.5, n1 + 1, c + 0.5, n2 + 1, confidence, f"{KATZ}, {HALDANE}")
    if zero:
        if a == 0 and c == 0:
            why = f"no one in either arm is in class (0 of {n1} and 0 of {n2}): the ratio is 0/0"
        elif c == 0:
            why = f"no one in the control arm is in class (0 of {n2}): the ratio divides by zero"
        else:
            why = f"no one in the treatment arm is in class (0 of {n1}): the ratio is 0 and its log interval undefined"
        return undefined(name, why, confidence, KATZ)
    return _katz(name, a, n1, c, n2, confidence, KATZ)


def _katz(name: str, a: float, n1: float, c: float, n2: float, confidence: float, method: str) -> Effect:
    """The risk ratio and its Katz log interval from the counts in class and arm sizes (with halves once corrected)."""
    rr = (a / n1) / (c / n2)
    se = math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)
    if se == 0:
        return interval_undefined(
            name, rr, se, confidence, method, "everyone in both arms is in class, so the log interval has zero width"
        )
    half = _z(confidence) * se
    return Effect(name, rr, (math.exp(math.log(rr) - half), math.exp(math.log(rr) + half)), se, confidence, method)


@dataclass(frozen=True)
class ClassComparison:
    """The share in class in each arm (with exact intervals), their difference and their ratio."""

    treatment: Proportion
    control: Proportion
    risk_difference: Effect
    risk_ratio: Effect


def compare_classes(
    a: int, n1: int, c: int, n2: int, confidence: float = 0.95, *, correction: bool = False
) -> ClassComparison:
    """``a`` of ``n1`` treatment and ``c`` of ``n2`` control participants in class, compared.

    Each arm's share with its Clopper-Pearson interval (:func:`~outcomes.proportion.proportion`),
    :func:`risk_difference` (Wald) and :func:`risk_ratio` (Katz; ``correction`` as there).

    >>> r = compare_classes(12, 30, 6, 30)
    >>> r.treatment.estimate, r.control.estimate, round(r.risk_difference.estimate, 3), r.risk_ratio.estimate
    (0.4, 0.2, 0.2, 2.0)
    """
    return ClassComparison(
        proportion(a, n1, confidence),
        proportion(c, n2, confidence),
        risk_difference(a, n1, c, n2, confidence),
        risk_ratio(a, n1, c, n2, confidence, correction=correction),
    )


@dataclass(frozen=True)
class Change:
    """Change in the share in class from baseline, per arm, and treatment's change minus control's.

    Fractions: 0.15 is 15 percentage points. NaN where an arm had no one at either timepoint.
    """

    treatment: float
    control: float
    difference: float


def change_from_baseline(baseline: ClassComparison, later: ClassComparison) -> Change:
    """Change p(later) - p(baseline) in each arm and the difference of the two changes.

    Descriptive, as trials tabulate it next to the between-arm comparison (e.g. "+15 points
    in the intervention arm, +3 in usual care"); computed from counts, not from rounded
    percentages. Each timepoint's proportion is over the participants seen then.

    >>> base, later = compare_classes(6, 30, 6, 30), compare_classes(12, 30, 7, 30)
    >>> change = change_from_baseline(base, later)
    >>> round(change.treatment, 4), round(change.control, 4), round(change.difference, 4)
    (0.2, 0.0333, 0.1667)
    """
    treatment = later.treatment.estimate - baseline.treatment.estimate
    control = later.control.estimate - baseline.control.estimate
    return Change(treatment, control, treatment - control)


NO_CHANGE = Change(NAN, NAN, NAN)
"""The change at baseline itself: none is defined."""
