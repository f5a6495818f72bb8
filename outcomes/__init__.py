"""Trial outcome statistics by arm: class shares, their difference and ratio, scores, follow-up.

Pure functions over numbers and long tables: no database, no web, no file I/O.

>>> from outcomes import compare_classes
>>> r = compare_classes(12, 30, 6, 30)
>>> round(r.risk_difference.estimate, 3), r.risk_ratio.estimate
(0.2, 2.0)
"""

from .binary import Change, ClassComparison, change_from_baseline, compare_classes, risk_difference, risk_ratio
from .continuous import ArmScores, ScoreComparison, compare_scores, hedges_g, mean_difference
from .proportion import Proportion, clopper_pearson, proportion
from .result import Effect
from .table import (
    ALL_ARMS,
    FOLLOW_UP_FIELDS,
    ROW_FIELDS,
    Comparison,
    Design,
    OutcomeTables,
    check_scores,
    class_changes,
    outcome_tables,
)

__all__ = [
    "ALL_ARMS",
    "FOLLOW_UP_FIELDS",
    "ROW_FIELDS",
    "ArmScores",
    "Change",
    "ClassComparison",
    "Comparison",
    "Design",
    "Effect",
    "OutcomeTables",
    "Proportion",
    "ScoreComparison",
    "change_from_baseline",
    "check_scores",
    "class_changes",
    "clopper_pearson",
    "compare_classes",
    "compare_scores",
    "hedges_g",
    "mean_difference",
    "outcome_tables",
    "proportion",
    "risk_difference",
    "risk_ratio",
]
