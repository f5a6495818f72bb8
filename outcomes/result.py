"""The results every outcome statistic returns: an estimate, its interval, and why either is missing."""

from __future__ import annotations

import math
from dataclasses import dataclass

NAN = float("nan")


@dataclass(frozen=True)
class Effect:
    """One effect of treatment against control (a difference or a ratio) with its interval.

    ``estimate`` is NaN exactly when these data cannot define it; ``ci`` is (NaN, NaN) when the
    estimate or its interval is undefined; ``undefined`` says why whenever either is NaN, so a
    ratio over no control events is never reported as 0 or infinity.
    """

    statistic: str
    estimate: float
    ci: tuple[float, float] = (NAN, NAN)
    se: float = NAN
    confidence: float = 0.95
    method: str = ""
    """How the estimate and interval were formed, citing the source (and any correction applied)."""
    undefined: str | None = None

    @property
    def defined(self) -> bool:
        return not math.isnan(self.estimate)

    def __str__(self) -> str:
        if not self.defined:
            return f"{self.statistic}: undefined ({self.undefined})"
        ci = (
            f" (undefined interval: {self.undefined})"
            if math.isnan(self.ci[0])
            else f" [{self.ci[0]:.3f}, {self.ci[1]:.3f}]"
        )
        return f"{self.statistic} {self.estimate:.3f}{ci}"


def undefined(statistic: str, reason: str, confidence: float, method: str = "") -> Effect:
    """An :class:`Effect` these data cannot define."""
    return Effect(statistic, NAN, confidence=confidence, method=method, undefined=reason)


def interval_undefined(
    statistic: str, estimate: float, se: float, confidence: float, method: str, reason: str
) -> Effect:
    """An :class:`Effect` whose estimate stands but whose interval does not."""
    return Effect(
        statistic, estimate, se=se, confidence=confidence, method=method, undefined=f"interval undefined: {reason}"
    )
