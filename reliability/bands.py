"""Conventional interpretation bands, to show beside a statistic, never to gate on by default."""

from __future__ import annotations

import math

# (lower bound, label), highest first.
LANDIS_KOCH = (
    (0.81, "almost perfect"),
    (0.61, "substantial"),
    (0.41, "moderate"),
    (0.21, "fair"),
    (0.0, "slight"),
    (-math.inf, "poor"),
)
"""Landis & Koch (1977), Biometrics 33:159, for kappa and kappa-like coefficients."""

KRIPPENDORFF = ((0.800, "reliable"), (0.667, "tentative"), (-math.inf, "unreliable"))
"""Krippendorff (2004), Content Analysis, 2nd ed., p. 241."""

KOO_LI = ((0.90, "excellent"), (0.75, "good"), (0.50, "moderate"), (-math.inf, "poor"))
"""Koo & Li (2016), J Chiropr Med 15:155, for the ICC."""


def band(value: float, bands: tuple[tuple[float, str], ...]) -> str:
    """The label of the highest band whose lower bound ``value`` reaches; "" for NaN.

    >>> band(0.89, LANDIS_KOCH), band(0.7, KRIPPENDORFF)
    ('almost perfect', 'tentative')
    """
    if math.isnan(value):
        return ""
    return next(label for bound, label in bands if value >= bound)
