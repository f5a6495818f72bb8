"""The result every statistic returns: an estimate with its uncertainty and provenance."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

NAN = float("nan")


@dataclass(frozen=True)
class Bootstrap:
    """How a bootstrap interval was obtained, so that it can be reported and reproduced."""

    n_boot: int
    seed: int
    percentile: tuple[float, float]
    bca: tuple[float, float]
    se: float
    n_undefined: int = 0
    """Resamples on which the statistic was undefined (e.g. one constant value); left out."""


@dataclass(frozen=True)
class Estimate:
    """One agreement statistic.

    ``estimate`` is NaN exactly when the statistic is undefined for these data, and then
    ``undefined`` says why: an undefined kappa is never reported as 0 or 1.
    """

    statistic: str
    estimate: float
    n: int
    ci: tuple[float, float] = (NAN, NAN)
    se: float = NAN
    confidence: float = 0.95
    method: str = ""
    """How the interval was formed, citing its source."""
    n_dropped: int = 0
    """Units left out because a score was missing."""
    undefined: str | None = None
    bootstrap: Bootstrap | None = None
    details: Mapping[str, float] = field(default_factory=dict)

    @property
    def defined(self) -> bool:
        return self.undefined is None

    def __str__(self) -> str:
        if not self.defined:
            return f"{self.statistic}: undefined ({self.undefined}), n={self.n}"
        ci = "" if math.isnan(self.ci[0]) else f" [{self.ci[0]:.3f}, {self.ci[1]:.3f}]"
        return f"{self.statistic} {self.estimate:.3f}{ci}, n={self.n}"


@dataclass(frozen=True)
class Estimates:
    """One statistic over a batch (e.g. every coder pair): arrays of one shape, NaN where undefined."""

    estimate: np.ndarray
    se: np.ndarray
    low: np.ndarray
    high: np.ndarray
    undefined: np.ndarray
    """Why each undefined one is undefined; "" where it is defined."""


def undefined(statistic: str, n: int, reason: str, n_dropped: int = 0) -> Estimate:
    """An :class:`Estimate` for a statistic these data cannot define."""
    return Estimate(statistic, NAN, n, n_dropped=n_dropped, undefined=reason)
