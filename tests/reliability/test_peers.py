"""Cross-checks against independent peer libraries, on random data (hypothesis).

Each test computes the same quantity with a library that shares no code with ours (sklearn,
statsmodels, krippendorff, pingouin, numpy by hand) and demands agreement to rounding error, so
a wrong formula, a wrong weight matrix or a wrong level mapping in ``reliability`` fails here.
The vectorised bootstrap algebra is checked against the peers on the *same* resample.
"""

import math
import warnings
from contextlib import contextmanager

import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from reliability import (
    Scale,
    TooFewUnitsError,
    agreement_weights,
    class_agreement,
    cohen_kappa,
    icc,
    kappa_from_table,
    krippendorff_alpha,
    percent_agreement,
)
from reliability.alpha import LEVELS, alpha_from_coincidences, alpha_tables, unit_coincidences
from reliability.kappa import kappa_cells

HALF_POINTS = Scale(1, 7, 0.5, threshold=5.5)  # 13 levels, the EA scales
WHOLE_POINTS = Scale(1, 5, threshold=3)
SCALES = st.sampled_from([HALF_POINTS, WHOLE_POINTS])
# Every kind of grid a codebook can declare: integer arguments (as TOML gives the VIPP scale),
# whole, half and quarter points, grids starting at 0, above 1 and below 0.
SCALE_KINDS = {
    "VIPP 1-5 by 1 (integers)": Scale(1, 5, 1, threshold=3),
    "0-4 by 1": Scale(0, 4, 1),
    "10-20 by 2": Scale(10, 20, 2),
    "-3 to 3 by 1": Scale(-3, 3, 1),
    "EA 1-7 by 0.5": HALF_POINTS,
    "3-6 by 0.5": Scale(3, 6, 0.5),
    "0-2 by 0.25": Scale(0, 2, 0.25),
    "2-4 by 0.25": Scale(2, 4, 0.25),
}
every_scale_kind = pytest.mark.parametrize("scale", SCALE_KINDS.values(), ids=SCALE_KINDS.keys())
every_level = pytest.mark.parametrize("level", LEVELS)
# Every level on every kind of grid is 32 cases: fewer examples each keeps the suite's time.
per_case = settings(max_examples=25)
WEIGHTS = ("none", "linear", "quadratic")
SKLEARN_WEIGHTS = {"none": None, "linear": "linear", "quadratic": "quadratic"}


def sklearn_kappa(ia, ib, k: int, weights: str) -> tuple[float, bool]:
    """sklearn's kappa on level indices over the full grid, and whether it called it undefined."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = cohen_kappa_score(ia, ib, labels=list(range(k)), weights=SKLEARN_WEIGHTS[weights])
    return float(value), any(issubclass(w.category, UndefinedMetricWarning) for w in caught)


@st.composite
def supports(draw, k: int) -> list[int]:
    """The levels a coder uses: all k, a random subset (levels left unused: the sklearn
    pitfall), two neighbouring levels (expected agreement just below 1, where kappa is defined
    but fragile), or a single level (a constant coder: undefined kappa and alpha).
    """
    kind = draw(st.sampled_from(["all", "all", "subset", "subset", "neighbours", "one"]))
    if kind == "all":
        return list(range(k))
    if kind == "one":
        return [draw(st.integers(0, k - 1))]
    if kind == "neighbours":
        low = draw(st.integers(0, k - 2))
        return [low, low + 1]
    return draw(st.lists(st.integers(0, k - 1), min_size=2, max_size=k, unique=True))


def level_indices(support: list[int], shape) -> st.SearchStrategy[np.ndarray]:
    # fill=nothing draws every element: hypothesis' default fill makes most arrays constant.
    return hnp.arrays(np.intp, shape, elements=st.sampled_from(support), fill=st.nothing())


@st.composite
def paired_scores(draw, scales=SCALES):
    """(scale, a, b): two coders' scores on the grid for the same units."""
    scale = draw(scales)
    n = draw(st.integers(2, 40))
    support_a = draw(supports(scale.k))
    support_b = support_a if draw(st.booleans()) else draw(supports(scale.k))
    ia = draw(level_indices(support_a, n))
    ib = draw(level_indices(support_b, n))
    return scale, scale.levels[ia], scale.levels[ib]


def sometimes(p_in_5: int) -> st.SearchStrategy[bool]:
    """True with probability p_in_5 / 5 or so, element by element."""
    return st.sampled_from([True] * p_in_5 + [False] * (5 - p_in_5))


@st.composite
def tables(draw):
    """A k x k contingency table (k 2..6, counts 0..30) with at least two units."""
    k = draw(st.integers(2, 6))
    cells = st.one_of(st.just(0), st.integers(0, 30))  # about half empty: zero rows and columns
    table = draw(hnp.arrays(np.int64, (k, k), elements=cells, fill=st.nothing()))
    assume(table.sum() >= 2)
    return table


@st.composite
def coder_matrices(draw, min_coders=2, max_coders=5, min_units=3, max_units=30, missing=True, scales=SCALES):
    """(scale, coders x units matrix of scores on the grid, NaN for ~20% missing)."""
    scale = draw(scales)
    shape = (draw(st.integers(min_coders, max_coders)), draw(st.integers(min_units, max_units)))
    indices = draw(level_indices(draw(supports(scale.k)), shape))
    data = scale.levels[indices].astype(float)
    if missing:
        absent = draw(hnp.arrays(bool, shape, elements=sometimes(1), fill=st.nothing()))
        data[absent] = np.nan
    return scale, data


# --- Cohen's kappa vs sklearn ---------------------------------------------------------------


@given(paired_scores(), st.sampled_from(WEIGHTS))
def test_cohen_kappa_equals_sklearn_on_full_grid_level_indices(scores, weights):
    """Our kappa weights by the declared grid; sklearn does too once given every level as labels."""
    scale, a, b = scores
    theirs, undefined = sklearn_kappa(scale.index(a), scale.index(b), scale.k, weights)
    assume(not undefined)
    ours = cohen_kappa(a, b, scale, weights)
    assert ours.defined
    assert ours.estimate == pytest.approx(theirs, abs=1e-9)
    assert ours.n == len(a)


@given(paired_scores(), st.sampled_from(WEIGHTS))
def test_cohen_kappa_is_undefined_exactly_when_sklearn_expected_agreement_is_one(scores, weights):
    """Expected agreement 1 makes kappa 0/0: we must say undefined (NaN + reason), never 0 or 1.

    sklearn returns NaN with an UndefinedMetricWarning in exactly that case.
    """
    scale, a, b = scores
    ia, ib = scale.index(a), scale.index(b)
    row = np.bincount(ia, minlength=scale.k) / ia.size
    col = np.bincount(ib, minlength=scale.k) / ib.size
    expected_agreement_is_one = math.isclose(float(row @ col), 1.0)
    event(f"expected agreement is one: {expected_agreement_is_one}")
    theirs, sklearn_undefined = sklearn_kappa(ia, ib, scale.k, weights)
    assert sklearn_undefined == expected_agreement_is_one == math.isnan(theirs)
    ours = cohen_kappa(a, b, scale, weights)
    assert (isinstance(ours.undefined, str) and math.isnan(ours.estimate)) == expected_agreement_is_one
    if not expected_agreement_is_one:
        assert ours.undefined is None and math.isfinite(ours.estimate)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_sklearn_without_labels_weights_by_observed_levels_and_moves_weighted_kappa(weights):
    """The pitfall: level 3 of 1-5 is unused, so sklearn's default labels shrink the distances.

    Ours must equal sklearn *with* the full grid as labels and differ from sklearn without.
    """
    scale = Scale(1, 5)
    a = [1, 1, 2, 4, 5, 5, 2, 4]
    b = [1, 2, 2, 4, 5, 4, 1, 5]
    ia, ib = scale.index(a), scale.index(b)
    ours = cohen_kappa(a, b, scale, weights).estimate
    full_grid = cohen_kappa_score(ia, ib, labels=list(range(scale.k)), weights=weights)
    observed_only = cohen_kappa_score(ia, ib, weights=weights)
    assert ours == pytest.approx(full_grid, abs=1e-12)
    assert abs(ours - observed_only) > 0.05


# --- Analytic SE vs statsmodels ---------------------------------------------------------------


@given(tables(), st.sampled_from(WEIGHTS))
def test_kappa_and_fleiss_cohen_everitt_standard_errors_equal_statsmodels(table, weights):
    """Both SEs (under the estimate and under kappa = 0) as statsmodels' cohens_kappa.

    statsmodels takes *disagreement* weights for a user matrix, hence 1 - W.
    """
    # Expected agreement is 1 only when every unit sits in one diagonal cell.
    assume(not (np.count_nonzero(table) == 1 and np.trace(table) == table.sum()))
    ours = kappa_from_table(table, weights)
    assert ours.defined
    w = agreement_weights(table.shape[0], weights)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # statsmodels takes sqrt of a variance that rounds to -1e-17 on perfect agreement.
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = cohens_kappa(table, weights=1 - w, wt="user")
    assert ours.estimate == pytest.approx(theirs.kappa, abs=1e-9)
    assert ours.se == pytest.approx(math.sqrt(max(theirs.var_kappa, 0.0)), rel=1e-7, abs=1e-7)
    assert ours.details["se_null"] == pytest.approx(math.sqrt(max(theirs.var_kappa0, 0.0)), rel=1e-7, abs=1e-7)


# --- Krippendorff's alpha vs the krippendorff package -----------------------------------------


@every_scale_kind
@every_level
@per_case
@given(st.data())
def test_krippendorff_alpha_equals_krippendorff_package(scale, level, data):
    """Alpha from a coders x units matrix with missing scores, every level on every kind of grid."""
    _, data = data.draw(coder_matrices(scales=st.just(scale)))
    scored = np.isfinite(data)
    pairable = scored.sum(axis=0) >= 2
    if pairable.sum() < 2:
        event("fewer than two pairable units")
        with pytest.raises(TooFewUnitsError):
            krippendorff_alpha(data, scale, level, n_boot=0)
        return
    ours = krippendorff_alpha(data, scale, level, n_boot=0)
    assert ours.n == pairable.sum()
    assert ours.n_dropped == data.shape[1] - pairable.sum()
    if np.unique(data[:, pairable][scored[:, pairable]]).size == 1:
        event("alpha undefined")
        assert isinstance(ours.undefined, str) and math.isnan(ours.estimate)
        return
    theirs = krippendorff.alpha(reliability_data=data, value_domain=scale.levels, level_of_measurement=level)
    assert ours.defined
    assert ours.estimate == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@st.composite
def value_counts(draw, scale: Scale):
    """(scale, units x levels counts of coders per level), every unit pairable (2+ values).

    Values come from a random subset of the levels, so a single-level (undefined) input occurs.
    """
    units = draw(st.integers(1, 25))
    support = np.array(draw(supports(scale.k)))
    few = st.sampled_from([0, 0, 0, 0, 1, 1, 2, 3])
    extra = draw(hnp.arrays(np.int64, (units, support.size), elements=few, fill=st.nothing()))
    counts = np.zeros((units, scale.k))
    counts[:, support] = extra
    for _ in range(2):
        pick = draw(level_indices(support.tolist(), units))
        counts[np.arange(units), pick] += 1
    return scale, counts


def _all_one_level(counts: np.ndarray) -> bool:
    return np.count_nonzero(counts.sum(axis=0)) == 1


@every_scale_kind
@every_level
@per_case
@given(st.data())
def test_alpha_from_summed_unit_coincidences_equals_krippendorff_package(scale, level, data):
    """The coincidence algebra the bootstrap runs on reproduces the package's alpha."""
    _, counts = data.draw(value_counts(scale))
    ours = float(alpha_from_coincidences(unit_coincidences(counts).sum(axis=0), level, scale.levels))
    if _all_one_level(counts):
        event("alpha undefined")
        assert math.isnan(ours)
        return
    theirs = krippendorff.alpha(value_counts=counts, value_domain=scale.levels, level_of_measurement=level)
    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@every_scale_kind
@every_level
@per_case
@given(st.data())
def test_alpha_bootstrap_replicate_equals_krippendorff_package_on_the_same_resample(scale, level, data):
    """A resample weight vector w (times each unit is drawn) applied to the per-unit coincidences
    gives the package's alpha on the resampled units, so every bootstrap replicate is right.
    """
    _, counts = data.draw(value_counts(scale))
    units = counts.shape[0]
    w = data.draw(hnp.arrays(np.int64, (2, units), elements=st.sampled_from([0, 1, 1, 2, 3]), fill=st.nothing()))
    replicates = alpha_from_coincidences(w.astype(float) @ unit_coincidences(counts), level, scale.levels)
    assert replicates.shape == (2,)
    for weights, replicate in zip(w, replicates, strict=True):
        resample = np.repeat(counts, weights, axis=0)
        if resample.shape[0] == 0 or _all_one_level(resample):
            event("replicate undefined")
            assert math.isnan(replicate)
            continue
        theirs = krippendorff.alpha(value_counts=resample, value_domain=scale.levels, level_of_measurement=level)
        assert replicate == pytest.approx(theirs, rel=1e-9, abs=1e-12)


@every_scale_kind
@every_level
@per_case
@given(st.data())
def test_pair_alpha_of_the_agreement_table_equals_krippendorff_package(scale, level, data):
    """The agreement table's alpha, from each pair's table of level counts, on every level and grid."""
    _, a, b = data.draw(paired_scores(scales=st.just(scale)))
    table = np.bincount(scale.index(a) * scale.k + scale.index(b), minlength=scale.k**2).reshape(scale.k, scale.k)
    ours = alpha_tables(np.stack([table, table.T]), scale, level)
    if np.unique(np.concatenate([a, b])).size == 1:
        event("alpha undefined")
        assert np.isnan(ours.estimate).all() and all(ours.undefined)
        return
    theirs = krippendorff.alpha(reliability_data=[a, b], value_domain=scale.levels, level_of_measurement=level)
    assert ours.estimate.tolist() == pytest.approx([theirs, theirs], rel=1e-9, abs=1e-12)


# --- Kappa bootstrap replicates vs sklearn ----------------------------------------------------


@given(paired_scores(), st.sampled_from(WEIGHTS), st.data())
def test_kappa_bootstrap_replicate_equals_sklearn_on_the_expanded_resample(scores, weights, data):
    """kappa_cells on a resampled table's occupied-cell counts equals sklearn on the resampled units."""
    scale, a, b = scores
    ia, ib = scale.index(a), scale.index(b)
    n = ia.size
    table = np.bincount(ia * scale.k + ib, minlength=scale.k**2).reshape(scale.k, scale.k)
    rows, cols = np.nonzero(table)
    picks = data.draw(hnp.arrays(np.intp, (3, n), elements=st.integers(0, n - 1), fill=st.nothing()))
    resampled = np.stack(
        [np.bincount(ia[p] * scale.k + ib[p], minlength=scale.k**2).reshape(scale.k, scale.k) for p in picks]
    )
    # Units resampled from occupied cells stay in occupied cells.
    assert resampled.sum(axis=(1, 2)).tolist() == resampled[:, rows, cols].sum(axis=1).tolist() == [n] * 3
    replicates = kappa_cells(resampled[:, rows, cols].astype(float), rows, cols, agreement_weights(scale.k, weights))
    for p, replicate in zip(picks, replicates, strict=True):
        theirs, undefined = sklearn_kappa(ia[p], ib[p], scale.k, weights)
        if undefined:
            event("replicate undefined")
            assert math.isnan(replicate)
        else:
            assert replicate == pytest.approx(theirs, abs=1e-9)


# --- ICC vs pingouin --------------------------------------------------------------------------


@contextmanager
def pingouin_unrounded():
    """pingouin rounds the CI95 column to 2 decimals by default; switch that off, then restore."""
    saved = dict(pingouin.options)
    pingouin.options["round.column.CI95"] = None
    pingouin.options["round"] = None
    try:
        yield
    finally:
        pingouin.options.clear()
        pingouin.options.update(saved)


@given(coder_matrices(min_coders=2, max_coders=4, min_units=5, max_units=30, missing=False))
def test_icc_single_and_average_equal_pingouin_with_interval(matrix):
    """ICC(A,1) and ICC(A,k) and their McGraw & Wong intervals as pingouin's intraclass_corr."""
    scale, data = matrix
    if np.unique(data).size == 1:
        event("ICC undefined")
        assert not icc(data, scale, "single").defined and not icc(data, scale, "average").defined
        return
    y = data.T  # units x coders
    units, coders = y.shape
    grand = y.mean()
    ms_units = coders * ((y.mean(axis=1) - grand) ** 2).sum() / (units - 1)
    ms_coders = units * ((y.mean(axis=0) - grand) ** 2).sum() / (coders - 1)
    ms_error = ((y - y.mean(axis=1, keepdims=True) - y.mean(axis=0) + grand) ** 2).sum() / (
        (units - 1) * (coders - 1)
    )
    # pingouin divides by the residual mean square; a vanishing residual is our own edge case.
    assume(ms_error > 1e-9)
    # ICC(A,k)'s denominator MSR + (MSC - MSE) / n is zero or negative when MSE >= n MSR + MSC:
    # there is no finite coefficient (pingouin divides by zero too). Left to a separate report.
    assume(ms_units + (ms_coders - ms_error) / units > 1e-9)
    single = icc(data, scale, "single")
    average = icc(data, scale, "average")
    long = pd.DataFrame(
        {
            "targets": np.tile(np.arange(units), coders),
            "raters": np.repeat(np.arange(coders), units),
            "ratings": data.ravel(),
        }
    )
    # errstate: pingouin's ICC(1,k) row (not compared) divides by MSR, which may be 0.
    with pingouin_unrounded(), warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", DeprecationWarning)  # pingouin's own use of pandas
        table = pingouin.intraclass_corr(long, targets="targets", raters="raters", ratings="ratings")
    table = table.set_index("Type")
    assert single.estimate == pytest.approx(table.at["ICC(A,1)", "ICC"], rel=1e-9, abs=1e-9)
    assert average.estimate == pytest.approx(table.at["ICC(A,k)", "ICC"], rel=1e-9, abs=1e-9)
    if math.isnan(single.ci[0]):
        # The Satterthwaite df collapse (exactly 0 for us, rounding noise near 1e-32 for pingouin, which
        # then prints a zero-width "interval"): we give none. Accept that only when the df really collapse.
        rho = single.estimate
        scale_f = ms_coders / ms_error
        spread = units * (1 + (coders - 1) * rho) - coders * rho
        df = (coders - 1) * (units - 1) * (coders * rho * scale_f + spread) ** 2 / (
            (units - 1) * coders**2 * rho**2 * scale_f**2 + spread**2
        )
        assert df < 1e-9
        return
    assert list(single.ci) == pytest.approx(list(table.at["ICC(A,1)", "CI95"]), abs=1e-7)

    # The average-measure bounds are the single-measure ones stepped up by Spearman-Brown, which is
    # not monotone below -1/(k-1): there pingouin reports a reversed interval and we report none.
    # Elsewhere compare them stepped back down, where both libraries' rounding stays small.
    if single.ci[0] <= -1 / (coders - 1) + 1e-9:
        assert math.isnan(average.ci[0]) and math.isnan(average.ci[1])
        return

    def stepped_down(x):
        return x / (coders - (coders - 1) * x)

    theirs = [stepped_down(x) for x in table.at["ICC(A,k)", "CI95"]]
    assert [stepped_down(x) for x in average.ci] == pytest.approx(theirs, abs=1e-7)


# --- Raw agreement vs numpy, class kappa vs sklearn -------------------------------------------


@st.composite
def paired_scores_with_missing(draw):
    """(scale, a, b) with ~15% of scores missing (NaN), at least two complete pairs."""
    scale, a, b = draw(paired_scores())
    for scores in (a, b):
        gone = draw(hnp.arrays(bool, scores.size, elements=sometimes(1), fill=st.nothing()))
        scores[gone] = np.nan
    assume(np.count_nonzero(np.isfinite(a) & np.isfinite(b)) >= 2)
    return scale, a, b


@given(paired_scores_with_missing(), st.sampled_from([0, 0.25, 0.5, 0.75, 1, 1.5, 2, 3]))
def test_percent_agreement_equals_numpy_on_complete_pairs(scores, within):
    """Share of complete pairs at most ``within`` points apart, with statsmodels' Wilson interval."""
    scale, a, b = scores
    complete = np.isfinite(a) & np.isfinite(b)
    close = np.abs(a[complete] - b[complete]) <= within + 1e-9
    r = percent_agreement(a, b, scale, within)
    assert r.estimate == pytest.approx(close.mean(), abs=1e-12)
    assert r.n == complete.sum()
    assert r.n_dropped == a.size - complete.sum()
    low, high = proportion_confint(int(close.sum()), int(complete.sum()), alpha=0.05, method="wilson")
    assert list(r.ci) == pytest.approx([low, high], abs=1e-9)


@given(paired_scores_with_missing())
def test_class_agreement_equals_numpy_and_class_kappa_equals_sklearn(scores):
    """Classes are score >= threshold; the kappa on them is sklearn's unweighted kappa."""
    scale, a, b = scores
    complete = np.isfinite(a) & np.isfinite(b)
    ca = (a[complete] >= scale.threshold).astype(int)
    cb = (b[complete] >= scale.threshold).astype(int)
    share, kappa = class_agreement(a, b, scale)
    assert share.estimate == pytest.approx(np.mean(ca == cb), abs=1e-12)
    assert share.n == kappa.n == complete.sum()
    assert share.n_dropped == kappa.n_dropped == a.size - complete.sum()
    theirs, undefined = sklearn_kappa(ca, cb, 2, "none")
    if undefined:
        event("class kappa undefined")
        assert isinstance(kappa.undefined, str) and math.isnan(kappa.estimate)
    else:
        assert kappa.estimate == pytest.approx(theirs, abs=1e-9)
