"""Agreement statistics for ordinal ratings on a declared scale.

Pure functions over numbers: no database, no web, no file I/O.

>>> from reliability import Scale, cohen_kappa
>>> ea = Scale(1, 7, 0.5, threshold=5.5)
>>> round(cohen_kappa([5, 6, 3.5], [5, 6.5, 3.5], ea, weights="quadratic").estimate, 3)
0.968
"""

from .agreement import class_agreement, confusion_matrix, percent_agreement
from .alpha import Level, krippendorff_alpha
from .bands import KOO_LI, KRIPPENDORFF, LANDIS_KOCH, band
from .bootstrap import resolve_seed
from .contingency import TooFewUnitsError, agreement_weights
from .gwet import gwet_ac, gwet_from_table
from .icc import icc
from .kappa import cohen_kappa, kappa_from_table
from .result import Bootstrap, Estimate
from .scale import Scale, ScoreError
from .summary import COLUMNS, STATISTICS, RatingsError, agreement_table

__all__ = [
    "COLUMNS",
    "KOO_LI",
    "KRIPPENDORFF",
    "LANDIS_KOCH",
    "STATISTICS",
    "Bootstrap",
    "Estimate",
    "Level",
    "RatingsError",
    "Scale",
    "ScoreError",
    "TooFewUnitsError",
    "agreement_table",
    "agreement_weights",
    "band",
    "class_agreement",
    "cohen_kappa",
    "confusion_matrix",
    "gwet_ac",
    "gwet_from_table",
    "icc",
    "kappa_from_table",
    "krippendorff_alpha",
    "percent_agreement",
    "resolve_seed",
]
