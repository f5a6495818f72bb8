"""Two coders' scores as a contingency table on the declared grid, and agreement weights."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .scale import Scale, ScoreError, Where, as_scores, is_missing

WeightName = Literal["none", "linear", "quadratic"]
Weights = WeightName | ArrayLike


class TooFewUnitsError(ValueError):
    """Fewer than two units carry scores from both coders."""


@dataclass(frozen=True)
class Pairs:
    """Two coders' level indices on the units both scored."""

    a: np.ndarray
    b: np.ndarray
    k: int
    n_dropped: int

    @property
    def n(self) -> int:
        return self.a.size

    def table(self) -> np.ndarray:
        """k x k counts: rows are coder a's level, columns coder b's."""
        return np.bincount(self.a * self.k + self.b, minlength=self.k * self.k).reshape(self.k, self.k)


def _as_series(values: ArrayLike, coder: str) -> tuple[pd.Series, Where]:
    """The scores, and where each came from: the Series label, else the 1-based position."""
    if isinstance(values, pd.Series):
        labels = values.index
        return values.reset_index(drop=True), lambda i: f"{coder}[{labels[i]}]"
    return pd.Series(as_scores(values).ravel()), lambda i: f"{coder}[{i + 1}]"


def _kept(keep: np.ndarray, where: Where) -> Where:
    """Where the i-th of the kept scores came from."""
    return lambda i: where(keep[i])


def paired_levels(a: ArrayLike, b: ArrayLike, scale: Scale) -> Pairs:
    """Validate two coders' scores and keep the units both scored.

    ``a[i]`` and ``b[i]`` are the two scores of unit ``i``; a missing score (NaN, None, blank)
    drops the unit, and the number dropped is kept. A score off the grid raises
    :class:`~reliability.scale.ScoreError` naming the coder and position (or the Series label).
    """
    sa, where_a = _as_series(a, "a")
    sb, where_b = _as_series(b, "b")
    if len(sa) != len(sb):
        raise ValueError(f"the two coders' scores differ in length ({len(sa)} and {len(sb)})")
    keep = np.flatnonzero(~(is_missing(sa.to_numpy()) | is_missing(sb.to_numpy())))
    problems: list[str] = []
    indices = []
    for series, where in ((sa, where_a), (sb, where_b)):
        try:
            indices.append(scale.index(series.to_numpy()[keep], _kept(keep, where)))
        except ScoreError as error:
            problems.append(str(error))
    if problems:
        raise ScoreError("; ".join(problems))
    if keep.size < 2:
        raise TooFewUnitsError(
            f"agreement needs at least two units scored by both coders; {keep.size} "
            f"{'was' if keep.size == 1 else 'were'} ({len(sa) - keep.size} left out for a missing score)"
        )
    return Pairs(indices[0], indices[1], scale.k, int(len(sa) - keep.size))


def agreement_weights(k: int, weights: Weights) -> np.ndarray:
    """k x k agreement weights over the declared grid's level indices i, j.

    - ``"none"``: 1 if i == j else 0 (unweighted kappa);
    - ``"linear"``: 1 - |i - j| / (k - 1);
    - ``"quadratic"``: 1 - (i - j)^2 / (k - 1)^2;
    - a k x k matrix of agreement weights in [0, 1] with ones on the diagonal.

    >>> agreement_weights(3, "linear").tolist()
    [[1.0, 0.5, 0.0], [0.5, 1.0, 0.5], [0.0, 0.5, 1.0]]
    """
    if isinstance(weights, str):
        distance = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
        match weights:
            case "none":
                return np.eye(k)
            case "linear":
                return 1 - distance
            case "quadratic":
                return 1 - distance**2
        raise ValueError(f"weights must be 'none', 'linear', 'quadratic' or a matrix, not {weights!r}")
    matrix = np.asarray(weights, dtype=float)
    if matrix.shape != (k, k):
        raise ValueError(f"a weight matrix for this scale must be {k} x {k}, not {' x '.join(map(str, matrix.shape))}")
    if not (np.all((matrix >= 0) & (matrix <= 1)) and np.allclose(np.diag(matrix), 1)):
        raise ValueError("a weight matrix holds agreement weights: values in [0, 1], ones on the diagonal")
    return matrix


def weights_name(weights: Weights) -> str:
    return weights if isinstance(weights, str) else "user"
