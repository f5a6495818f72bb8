"""The declared rating scale: the grid of levels every score must lie on.

Weighted statistics measure the distance between two scores in steps of the *declared* grid,
never in steps among the labels that happen to be observed: when a level goes unused,
index-among-observed-labels (sklearn's ``cohen_kappa_score``, R's ``irr::kappa2``) shrinks the
distances and moves kappa. Every statistic here therefore maps scores to level indices through
a :class:`Scale` first.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

# Scores come from spreadsheets as decimal floats; 5.5 may arrive as 5.4999999999.
_GRID_TOLERANCE = 1e-6
_MAX_NAMED = 5


class ScoreError(ValueError):
    """A score that cannot be used: not a number, off the grid, or out of range.

    The message names each offending value and where it was.
    """


def _fmt(x: float) -> str:
    return f"{x:g}"


def _describe(problems: list[str]) -> str:
    shown = "; ".join(problems[:_MAX_NAMED])
    more = len(problems) - _MAX_NAMED
    return shown + (f"; and {more} more" if more > 0 else "")


Scores = ArrayLike | Sequence[object]
"""Scores as they come: numbers, or a spreadsheet's text, None and blanks (which ArrayLike leaves out)."""

Where = Callable[[int], str]
"""Says where the i-th score came from, for error messages; built only when one is needed."""


def by_row(rows: pd.Index) -> Where:
    """Where for scores read from a table: ``"row N"`` with the i-th score's row label."""
    return lambda i: f"row {rows[i]}"


def as_scores(values: Scores) -> np.ndarray:
    """An array of scores: numeric as given, anything else (text, None, mixed) as objects.

    NumPy would turn ``[3, nan, " "]`` into strings, losing the NaN; objects keep it.
    """
    array = np.asarray(values)
    return array if array.dtype.kind in "biuf" else np.asarray(values, dtype=object)


def is_missing(scores: np.ndarray) -> np.ndarray:
    """True for NaN, None or a blank spreadsheet cell."""
    if scores.dtype.kind in "biuf":
        return np.isnan(scores.astype(float))
    series = pd.Series(scores.ravel(), dtype=object)
    return (series.isna() | series.astype(str).str.strip().eq("")).to_numpy().reshape(scores.shape)


def _position(i: int) -> str:
    return f"position {i + 1}"


@dataclass(frozen=True)
class Scale:
    """An ordinal rating scale from ``low`` to ``high`` in steps of ``step``.

    ``threshold`` splits the scale into two classes, ``class_labels = (below, at_or_above)``;
    for the Emotional Availability Scales a score of 5.5 or more is *Sensitive*.

    >>> ea = Scale(1, 7, 0.5, threshold=5.5)
    >>> ea.k
    13
    >>> ea.index([1, 5.5, 7]).tolist()
    [0, 9, 12]
    >>> ea.classify([5, 5.5]).tolist()
    [0, 1]
    """

    low: float
    high: float
    step: float = 1.0
    threshold: float | None = None
    class_labels: tuple[str, str] = ("below threshold", "at or above threshold")

    def __post_init__(self) -> None:
        if not (np.isfinite(self.low) and np.isfinite(self.high) and np.isfinite(self.step)):
            raise ValueError("a scale needs finite low, high and step")
        if self.step <= 0:
            raise ValueError(f"a scale's step must be positive, not {_fmt(self.step)}")
        if self.high <= self.low:
            raise ValueError(f"a scale's high end ({_fmt(self.high)}) must be above its low end ({_fmt(self.low)})")
        span = (self.high - self.low) / self.step
        if abs(span - round(span)) > _GRID_TOLERANCE:
            raise ValueError(
                f"{_fmt(self.low)} to {_fmt(self.high)} is not a whole number of steps of {_fmt(self.step)}"
            )
        if self.threshold is not None:
            t = self._grid_position(np.array([self.threshold]))[0]
            if not (abs(t - round(t)) <= _GRID_TOLERANCE and 1 <= round(t) <= self.k - 1):
                raise ValueError(f"threshold {_fmt(self.threshold)} must be a level of {self} above its lowest level")

    def __str__(self) -> str:
        return f"the scale {_fmt(self.low)}-{_fmt(self.high)} in steps of {_fmt(self.step)}"

    @classmethod
    def parse(cls, text: str, threshold: float | None = None) -> Scale:
        """Read ``"low:high:step"`` (or ``"low:high"`` for whole points), as the CLI takes it.

        >>> Scale.parse("1:7:0.5").k
        13
        """
        parts = text.split(":")
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) == 2:
            numbers.append(1.0)  # LOW:HIGH is whole points
        if len(numbers) != 3:
            raise ValueError(f"scale {text!r} is not of the form LOW:HIGH:STEP, e.g. 1:7:0.5")
        low, high, step = numbers
        return cls(low, high, step, threshold=threshold)

    @property
    def k(self) -> int:
        """Number of levels on the grid."""
        return int(round((self.high - self.low) / self.step)) + 1

    @property
    def levels(self) -> np.ndarray:
        """The score of each level, lowest first, as floats even when low, high and step are integers.

        >>> Scale(1, 5, 1).levels.tolist()
        [1.0, 2.0, 3.0, 4.0, 5.0]
        """
        return np.round(self.low + self.step * np.arange(self.k, dtype=float), 10)

    @property
    def threshold_index(self) -> int:
        """Index of the first level in the upper class."""
        if self.threshold is None:
            raise ValueError(f"{self} has no threshold, so it has no classes")
        return int(round((self.threshold - self.low) / self.step))

    def _grid_position(self, scores: np.ndarray) -> np.ndarray:
        return (scores - self.low) / self.step

    def index(self, scores: Scores, where: Where = _position) -> np.ndarray:
        """Level index (0 .. k-1) of each score.

        Raises :class:`ScoreError` naming every score that is missing, not numeric, off the
        grid or out of range, with ``where(i)`` (default ``"position i"``) saying where it was.
        Drop missing pairs before calling: a missing score here is an error.
        """
        raw = as_scores(scores).ravel()
        if raw.dtype.kind in "biuf":
            numeric = raw.astype(float)
        else:
            numeric = pd.to_numeric(pd.Series(raw, dtype=object), errors="coerce").to_numpy(dtype=float)
        position = self._grid_position(numeric)
        nearest = np.round(position)
        # inf - round(inf) is nan: such a score is reported below as not a number, without a numpy warning.
        with np.errstate(invalid="ignore"):
            ok = (
                np.isfinite(position)
                & (np.abs(position - nearest) <= _GRID_TOLERANCE)
                & (nearest >= 0)
                & (nearest <= self.k - 1)
            )
        if not ok.all():
            problems = []
            for i in np.flatnonzero(~ok).tolist():
                value = raw[i]
                if pd.isna(value):
                    reason = "score is missing"
                elif not np.isfinite(numeric[i]):
                    reason = f"score {value.item() if isinstance(value, np.generic) else value!r} is not a number"
                elif not self.low <= numeric[i] <= self.high:
                    reason = f"score {_fmt(numeric[i])} is outside {self}"
                else:
                    reason = f"score {_fmt(numeric[i])} is not on {self}"
                problems.append(f"{where(i)}: {reason}")
            raise ScoreError(_describe(problems))
        return nearest.astype(np.intp)

    def level(self, score: object, where: str) -> float:
        """The grid level one score (a number or its text; blank is missing) stands for, as a float.

        Raises :class:`ScoreError` saying why, prefixed with ``where``.

        >>> Scale(1, 7, 0.5).level("5.5", "field 'score'")
        5.5
        """
        return float(self.levels[self.index([score], lambda _: where)[0]])

    def classify(self, scores: ArrayLike, where: Where = _position) -> np.ndarray:
        """1 where a score is at or above the threshold, else 0."""
        return (self.index(scores, where) >= self.threshold_index).astype(np.intp)
