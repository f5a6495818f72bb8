"""Cross-checks against independent peer libraries, on random data (hypothesis).

Each test computes the same quantity with a library that shares no code with ours (sklearn,
statsmodels, krippendorff, pingouin, numpy by hand) and demands agreement to rounding error, so
a wrong formula, a wrong weight matrix or a wrong level mapping in ``reliability`` fails here.
The vectorised bootstrap algebra is checked against the peers on the *same* resample.
"""

import math
import warnings
from contextlib import contextmanager

import irrCAC.raw
import irrCAC.table
import krippendorff
import numpy as np
import pandas as pd
import pingouin
import pytest
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.stats import norm
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

from reliability import (
    Scale,
    TooFewUnitsError,
    agreement_table,
    agreement_weights,
    class_agreement,
    cohen_kappa,
    gwet_ac,
    gwet_from_table,
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
# Every level on every kind of grid, but ratio on a grid below 0 (refused: see test_edge_cases).
ALPHA_CASES = {
    f"{level}-{name}": (scale, level)
    for name, scale in SCALE_KINDS.items()
    for level in LEVELS
    if not (level == "ratio" and scale.low < 0)
}
every_level_on_every_scale_kind = pytest.mark.parametrize(
    ("scale", "level"), ALPHA_CASES.values(), ids=ALPHA_CASES.keys()
)
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


def statsmodels_kappa(table: np.ndarray, weights: str) -> tuple[float, float, float, float]:
    """statsmodels' kappa, SE and SE under kappa = 0, and how far rounding may move its SEs.

    statsmodels takes *disagreement* weights for a user matrix, hence 1 - W. It subtracts two
    near-equal sums for each variance (ours sums squared deviations from the mean), so its
    variances carry rounding of about 1e-12 / (n (1 - p_e)^2): large where p_e is near 1.
    """
    w = agreement_weights(table.shape[0], weights)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        # statsmodels takes sqrt of a variance that rounds to -1e-17 on perfect agreement.
        warnings.simplefilter("ignore", RuntimeWarning)
        theirs = cohens_kappa(table, weights=1 - w, wt="user")
    n = table.sum()
    p_e = table.sum(axis=1) @ w @ table.sum(axis=0) / n**2
    slack = math.sqrt(1e-12 / (n * (1 - p_e) ** 2))
    return theirs.kappa, math.sqrt(max(theirs.var_kappa, 0.0)), math.sqrt(max(theirs.var_kappa0, 0.0)), slack


@given(tables(), st.sampled_from(WEIGHTS))
def test_kappa_and_fleiss_cohen_everitt_standard_errors_equal_statsmodels(table, weights):
    """Both SEs (under the estimate and under kappa = 0) as statsmodels' cohens_kappa."""
    # Expected agreement is 1 only when every unit sits in one diagonal cell.
    assume(not (np.count_nonzero(table) == 1 and np.trace(table) == table.sum()))
    ours = kappa_from_table(table, weights)
    assert ours.defined
    kappa, se, se_null, slack = statsmodels_kappa(table, weights)
    assert ours.estimate == pytest.approx(kappa, abs=1e-9)
    assert ours.se == pytest.approx(se, rel=1e-7, abs=slack)
    assert ours.details["se_null"] == pytest.approx(se_null, rel=1e-7, abs=slack)


# --- Krippendorff's alpha vs the krippendorff package -----------------------------------------


@every_level_on_every_scale_kind
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


@every_level_on_every_scale_kind
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


@every_level_on_every_scale_kind
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


@every_level_on_every_scale_kind
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
    ms_error = ((y - y.mean(axis=1, keepdims=True) - y.mean(axis=0) + grand) ** 2).sum() / ((units - 1) * (coders - 1))
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
        df = (
            (coders - 1)
            * (units - 1)
            * (coders * rho * scale_f + spread) ** 2
            / ((units - 1) * coders**2 * rho**2 * scale_f**2 + spread**2)
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
def paired_scores_with_missing(draw, scales=SCALES):
    """(scale, a, b) with ~15% of scores missing (NaN), at least two complete pairs."""
    scale, a, b = draw(paired_scores(scales))
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


# --- Gwet's AC1/AC2 vs irrCAC; the agreement table vs every statistic's reference ------------

IRRCAC_WEIGHTS = {"none": "identity", "linear": "linear", "quadratic": "quadratic"}


def irrcac_raw(
    a, b, scale: Scale, weights: str, method: str = "gwet", population: float = math.inf, confidence: float = 0.95
) -> dict:
    """irrCAC's raw-ratings coefficient of two coders' complete scores, categories the full grid."""
    ratings = pd.DataFrame({"a": a, "b": b})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # irrCAC's own use of pandas
        cac = irrCAC.raw.CAC(
            ratings,
            IRRCAC_WEIGHTS[weights],
            categories=scale.levels.tolist(),
            confidence_level=confidence,
            N=population,
            digits=15,
        )
        return getattr(cac, method)()["est"]


def assert_matches_irrcac(estimate: float, se: float, ci, theirs: dict, tolerance: float = 1e-9) -> None:
    # irrCAC reports a zero SE as 1e-15 (and an interval that wide).
    assert estimate == pytest.approx(theirs["coefficient_value"], abs=1e-9)
    assert se == pytest.approx(theirs["se"], rel=1e-7, abs=tolerance)
    assert list(ci) == pytest.approx(list(theirs["confidence_interval"]), abs=20 * tolerance)


@given(
    paired_scores_with_missing(st.sampled_from(list(SCALE_KINDS.values()))),
    st.sampled_from(WEIGHTS),
    st.one_of(st.just(math.inf), st.integers(0, 100)),
)
def test_gwet_ac_equals_irrcac_on_the_raw_ratings(scores, weights, more_in_population):
    """Estimate, raw-ratings SE and t interval as irrCAC's raw CAC.gwet() on the units both coders
    scored, over the full grid (unused levels, half and quarter points), with and without a finite
    population (N = n + ``more_in_population``)."""
    scale, a, b = scores
    complete = np.isfinite(a) & np.isfinite(b)
    population = complete.sum() + more_in_population
    ours = gwet_ac(a, b, scale, weights, population=population)
    assert (ours.n, ours.n_dropped) == (complete.sum(), a.size - complete.sum())
    assert_matches_irrcac(
        ours.estimate, ours.se, ours.ci, irrcac_raw(a[complete], b[complete], scale, weights, population=population)
    )


@given(tables(), st.sampled_from(WEIGHTS), st.one_of(st.just(math.inf), st.integers(0, 100)))
def test_gwet_from_table_equals_irrcac_on_the_table(table, weights, more_in_population):
    """The table form as irrCAC's table CAC.gwet(): same estimate, SE smaller by sqrt((n - 1) / n)."""
    population = table.sum() + more_in_population
    ours = gwet_from_table(table, weights, population=population)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # irrCAC's p-value divides by a zero SE
        est = irrCAC.table.CAC(pd.DataFrame(table), IRRCAC_WEIGHTS[weights], N=population, digits=15).gwet()["est"]
    # Its table functions answer in 1-element arrays.
    theirs = {
        "coefficient_value": float(np.squeeze(est["coefficient_value"])),
        "se": float(np.squeeze(est["se"])),
        "confidence_interval": [float(np.squeeze(x)) for x in est["confidence_interval"]],
    }
    # irrCAC subtracts two near-equal sums for the table variance (ours sums squared deviations): a
    # zero variance comes out as 0 or +-1e-15, an SE of 0, 4e-8 or NaN, and scipy gives no interval for 0.
    if not theirs["se"] > 0:
        event("irrCAC's variance rounds to zero or below")
        assert ours.estimate == pytest.approx(theirs["coefficient_value"], abs=1e-9)
        assert ours.se < 1e-7
        return
    assert_matches_irrcac(ours.estimate, ours.se, ours.ci, theirs, tolerance=1e-7)


@settings(max_examples=30)  # irrCAC's Conger kappa loops in pandas: slow
@given(paired_scores(), st.sampled_from(WEIGHTS))
def test_kappa_keeps_fleiss_cohen_everitts_variance_where_irrcac_raw_conger_divides_by_n_minus_1(scores, weights):
    """The one difference from irrCAC's raw-ratings (Conger's) kappa of two coders is the form of
    the variance: the same kappa, SE larger by sqrt(n / (n - 1)), a t(n - 1) interval. Ours stays
    Fleiss, Cohen & Everitt's, as statsmodels (test above) and the published values."""
    scale, a, b = scores
    ours = cohen_kappa(a, b, scale, weights)
    assume(ours.defined)
    theirs = irrcac_raw(a, b, scale, weights, method="conger")
    n = a.size
    assert ours.estimate == pytest.approx(theirs["coefficient_value"], abs=1e-9)
    assert ours.se * math.sqrt(n / (n - 1)) == pytest.approx(theirs["se"], rel=1e-7, abs=1e-9)


@given(
    paired_scores_with_missing(st.sampled_from([HALF_POINTS, SCALE_KINDS["VIPP 1-5 by 1 (integers)"]])),
    st.sampled_from([0.9, 0.95, 0.99]),
)
def test_agreement_table_statistics_equal_their_references(scores, confidence):
    """What the pages, the report and the CLI show (the agreement table) is each statistic's
    reference: Gwet's AC as irrCAC's raw ratings; kappa, weighted and on the classes, as
    statsmodels (Fleiss, Cohen & Everitt); agreement shares with statsmodels' Wilson interval;
    the ICC as :func:`icc` (checked against pingouin above)."""
    scale, a, b = scores
    units = [f"u{i}" for i in range(a.size)]
    ratings = pd.DataFrame(
        {"unit": units * 2, "coder": ["A"] * a.size + ["B"] * b.size, "subscale": "s", "score": np.concatenate([a, b])}
    )
    row = agreement_table(ratings, scale, within=1, confidence=confidence, n_boot=0).iloc[0]
    complete = np.isfinite(a) & np.isfinite(b)
    a, b = a[complete], b[complete]

    def shown(key: str) -> tuple[float, float, tuple[float, float]]:
        return row[key], row[f"{key}_se"], (row[f"{key}_ci_low"], row[f"{key}_ci_high"])

    for key, weights in (("ac1", "none"), ("ac2_quadratic", "quadratic")):
        assert_matches_irrcac(*shown(key), irrcac_raw(a, b, scale, weights, confidence=confidence))
    ia, ib = scale.index(a), scale.index(b)
    tables = {
        "kappa_linear": (np.bincount(ia * scale.k + ib, minlength=scale.k**2).reshape(scale.k, -1), "linear"),
        "kappa_quadratic": (np.bincount(ia * scale.k + ib, minlength=scale.k**2).reshape(scale.k, -1), "quadratic"),
        "class_kappa": (np.bincount(scale.classify(a) * 2 + scale.classify(b), minlength=4).reshape(2, 2), "none"),
    }
    for key, (table, weights) in tables.items():
        if np.isnan(row[key]):
            event(f"{key} undefined")
            continue
        kappa, se, _, slack = statsmodels_kappa(table, weights)
        z = norm.ppf(0.5 + confidence / 2)
        assert row[key] == pytest.approx(kappa, abs=1e-9)
        assert row[f"{key}_se"] == pytest.approx(se, rel=1e-7, abs=slack)
        assert list(shown(key)[2]) == pytest.approx([kappa - z * se, min(kappa + z * se, 1)], abs=3 * slack + 1e-9)
    shares = {
        "exact_agreement": a == b,
        "within_agreement": np.abs(a - b) <= 1 + 1e-9,
        "class_agreement": scale.classify(a) == scale.classify(b),
    }
    for key, agreeing in shares.items():
        low, high = proportion_confint(int(agreeing.sum()), agreeing.size, alpha=1 - confidence, method="wilson")
        assert [row[key], row[f"{key}_ci_low"], row[f"{key}_ci_high"]] == pytest.approx(
            [agreeing.mean(), low, high], abs=1e-9
        )
    for key, measures in (("icc_single", "single"), ("icc_average", "average")):
        alone = icc([a, b], scale, measures, confidence=confidence)
        assert [row[key], *shown(key)[2]] == pytest.approx([alone.estimate, *alone.ci], abs=1e-9, nan_ok=True)
