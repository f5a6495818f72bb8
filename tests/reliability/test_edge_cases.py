"""Pitfalls: unused levels, half points, constant coders, one unit, all missing, bad scores."""

import importlib
import math

import numpy as np
import pandas as pd
import pytest

from reliability import (
    Scale,
    ScoreError,
    TooFewUnitsError,
    agreement_table,
    agreement_weights,
    class_agreement,
    cohen_kappa,
    confusion_matrix,
    gwet_ac,
    icc,
    kappa_from_table,
    krippendorff_alpha,
    percent_agreement,
)
from reliability.contingency import paired_levels

EA = Scale(1, 7, 0.5, threshold=5.5, class_labels=("Inconsistent or insensitive", "Sensitive"))


def test_ea_scale_has_thirteen_levels_and_classes_at_five_and_a_half():
    assert EA.k == 13
    assert EA.levels.tolist() == [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7]
    assert EA.classify([5, 5.5, 7, 1]).tolist() == [0, 1, 1, 0]


def test_kappa_weights_distances_over_the_declared_grid_not_the_observed_labels():
    """Only 3, 5 and 7 used: over the grid 3 -> 5 is 4 steps of 12, not 1 step of 2."""
    a, b = [3, 5, 7, 5, 3], [5, 5, 7, 7, 3]
    r = cohen_kappa(a, b, Scale(1, 7, 0.5), "linear")
    w = agreement_weights(13, "linear")
    assert w[4, 8] == pytest.approx(1 - 4 / 12)
    table = np.zeros((13, 13))
    for x, y in zip(a, b, strict=True):
        table[int((x - 1) * 2), int((y - 1) * 2)] += 1
    p = table / 5
    p_e = p.sum(1) @ w @ p.sum(0)
    assert r.estimate == pytest.approx(((w * p).sum() - p_e) / (1 - p_e))


def test_half_points_are_accepted_and_off_grid_quarter_points_are_named():
    assert cohen_kappa([5.5, 6, 2.5], [5.5, 6.5, 2.5], EA).n == 3
    with pytest.raises(ScoreError, match=r"b\[2\]: score 5.25 is not on the scale 1-7 in steps of 0.5"):
        cohen_kappa([5.5, 6, 2.5], [5.5, 5.25, 2.5], EA)


def test_out_of_range_and_text_scores_are_named_with_their_series_label():
    a = pd.Series([5, 8, 3], index=["r1", "r2", "r3"])
    b = pd.Series([5, 6, "six"], index=["r1", "r2", "r3"])
    with pytest.raises(ScoreError) as error:
        cohen_kappa(a, b, EA)
    assert "a[r2]: score 8 is outside the scale 1-7" in str(error.value)
    assert "b[r3]: score 'six' is not a number" in str(error.value)


def test_spreadsheet_scores_a_hair_off_the_grid_count_as_on_it():
    assert EA.index([5.4999999999, 6.0000000001]).tolist() == [9, 10]


@pytest.mark.parametrize("weights", ["none", "linear", "quadratic"])
def test_constant_coders_on_one_level_make_kappa_undefined_never_zero_or_one(weights):
    r = cohen_kappa([4, 4, 4, 4], [4, 4, 4, 4], EA, weights)
    assert math.isnan(r.estimate)
    assert "expected agreement is 1" in r.undefined
    assert not r.defined
    assert "undefined" in str(r)


def test_kappa_of_a_constant_coder_has_no_spread_rather_than_rounding_noise():
    """Coder a never varies, so kappa is 0 on every sample: its SE is 0 (it was 3.4e-6, the
    cancellation of two near-equal sums, which statsmodels still shows)."""
    r = cohen_kappa([1, 1, 1, 1, 1], [1, 1, 1, 1, 1.5], EA, "quadratic")
    assert r.estimate == 0
    assert r.se < 1e-12 and r.details["se_null"] < 1e-12
    assert r.ci == pytest.approx((0, 0), abs=1e-12)


def test_constant_coders_on_different_levels_give_kappa_zero():
    r = cohen_kappa([4, 4, 4], [5, 5, 5], EA, "linear")
    assert r.estimate == pytest.approx(0.0)


def test_alpha_and_icc_are_undefined_for_constant_data_and_gwet_is_not():
    data = [[6, 6, 6], [6, 6, 6]]
    alpha = krippendorff_alpha(data, EA, "ordinal", n_boot=100, seed=1)
    assert math.isnan(alpha.estimate) and "D_e = 0" in alpha.undefined
    intraclass = icc(data, EA)
    assert math.isnan(intraclass.estimate) and "every score is the same" in intraclass.undefined
    # The kappa paradox's answer: AC1 stays defined (and is 1) when both coders agree on one level.
    assert gwet_ac([6, 6, 6], [6, 6, 6], EA).estimate == pytest.approx(1.0)


def test_ratio_alpha_is_refused_on_a_scale_below_zero_rather_than_called_undefined():
    """Between -3 and 3 the ratio metric is 0/0: these coders disagree, yet D_e would be 0."""
    below_zero = Scale(-3, 3, 1)
    with pytest.raises(ValueError, match="ratio level needs a scale with no negative levels, and the scale -3-3"):
        krippendorff_alpha([[-3, 3, -3], [3, -3, -3]], below_zero, "ratio", n_boot=0)
    ratings = pd.DataFrame({"unit": [1, 1, 2, 2], "coder": ["A", "B"] * 2, "subscale": "s", "score": [-3, 3, 3, -3]})
    with pytest.raises(ValueError, match="ratio level needs a scale with no negative levels"):
        agreement_table(ratings, below_zero, level="ratio", n_boot=0)
    assert krippendorff_alpha([[-3, 3, -3], [3, -3, -3]], below_zero, "interval", n_boot=0).defined


def test_gwet_population_smaller_than_the_sample_is_refused():
    with pytest.raises(ValueError, match=r"the population \(4 units\) cannot be smaller than the sample \(5\)"):
        gwet_ac([6, 6, 5, 6, 5], [6, 6, 6, 6, 5], EA, population=4)


def test_one_unit_is_an_error_that_says_so():
    with pytest.raises(TooFewUnitsError, match="at least two units scored by both coders; 1 was"):
        cohen_kappa([5], [5], EA)
    with pytest.raises(TooFewUnitsError, match="at least two units"):
        krippendorff_alpha([[5, np.nan], [5, 6]], EA)


def test_all_missing_is_an_error_that_counts_what_was_left_out():
    with pytest.raises(TooFewUnitsError, match=r"0 were \(3 left out for a missing score\)"):
        cohen_kappa([np.nan, np.nan, np.nan], [5, 6, 7], EA)
    with pytest.raises(TooFewUnitsError):
        krippendorff_alpha(np.full((3, 4), np.nan), EA)
    with pytest.raises(TooFewUnitsError):
        icc(np.full((2, 4), np.nan), EA)


def test_paired_levels_are_indices_on_the_declared_grid_of_the_units_both_scored():
    """Scores become level indices over the whole 1-7 grid (5.5 is level 9 of 0..12), whatever was observed;
    a unit one coder left unscored is dropped and counted."""
    pairs = paired_levels([5.5, np.nan, 1, 7], [6, 6, 1, 7], EA)
    assert (pairs.a.tolist(), pairs.b.tolist(), pairs.k, pairs.n_dropped) == ([9, 0, 12], [10, 0, 12], 13, 1)
    assert pairs.table()[9, 10] == 1 and pairs.table().sum() == 3


def test_missing_pairs_are_dropped_and_counted():
    a = [5, np.nan, 6, 3, None, 4]
    b = [5, 6, 6, "", 2, 4.5]
    r = cohen_kappa(a, b, EA)
    assert (r.n, r.n_dropped) == (3, 3)
    assert percent_agreement(a, b, EA).n_dropped == 3
    alpha = krippendorff_alpha([a, b], EA, n_boot=0)
    assert (alpha.n, alpha.n_dropped) == (3, 3)


def test_percent_agreement_within_a_tolerance_counts_in_points_not_levels():
    a, b = [5, 5, 5, 5], [5, 5.5, 6, 6.5]
    assert percent_agreement(a, b, EA).estimate == 0.25
    assert percent_agreement(a, b, EA, within=0.5).estimate == 0.5
    assert percent_agreement(a, b, EA, within=1).estimate == 0.75
    with pytest.raises(ValueError, match="cannot be negative"):
        percent_agreement(a, b, EA, within=-1)


def test_class_agreement_uses_the_threshold_and_needs_one():
    share, kappa = class_agreement([6, 5, 7, 3], [5.5, 5, 5, 3], EA)
    assert share.estimate == 0.75
    assert kappa.statistic == "kappa (none)" and kappa.n == 4
    with pytest.raises(ValueError, match="has no threshold"):
        class_agreement([6, 5], [5, 5], Scale(1, 7, 0.5))


def test_confusion_matrix_spans_every_level_of_the_grid():
    m = confusion_matrix([5, 5.5], [5, 7], EA)
    assert m.shape == (13, 13)
    assert m.loc[5.0, 5.0] == 1 and m.loc[5.5, 7.0] == 1 and m.to_numpy().sum() == 2


def test_user_weight_matrix_is_validated():
    with pytest.raises(ValueError, match="must be 3 x 3, not 2 x 2"):
        kappa_from_table(np.eye(3) * 5, [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="ones on the diagonal"):
        kappa_from_table(np.eye(3) * 5, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="weights must be"):
        kappa_from_table(np.eye(3) * 5, "cubic")


def test_tables_must_hold_counts():
    with pytest.raises(ValueError, match="square"):
        kappa_from_table([[1, 2, 3]])
    with pytest.raises(ValueError, match="whole numbers"):
        kappa_from_table([[1.5, 0], [0, 2]])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 7, 0), "step must be positive"),
        ((7, 1, 1), "must be above its low end"),
        ((1, 7, 4), "not a whole number of steps"),
    ],
)
def test_impossible_scales_are_refused(args, message):
    with pytest.raises(ValueError, match=message):
        Scale(*args)


@pytest.mark.parametrize("threshold", [1, 5.25, 8])
def test_threshold_must_split_the_grid(threshold):
    with pytest.raises(ValueError, match="threshold"):
        Scale(1, 7, 0.5, threshold=threshold)


def test_scale_parses_the_cli_form():
    assert Scale.parse("1:7:0.5", 5.5) == Scale(1, 7, 0.5, threshold=5.5)
    assert Scale.parse("1:5").k == 5
    with pytest.raises(ValueError, match="LOW:HIGH:STEP"):
        Scale.parse("one to seven")


def test_bootstrap_choice_is_validated_and_bca_can_be_asked_for():
    with pytest.raises(ValueError, match="ci must be"):
        cohen_kappa([5, 6, 3], [5, 6, 4], EA, ci="jackknife")
    a = np.array([5, 6, 3, 4, 5.5, 6.5, 2, 7] * 5)
    b = np.array([5, 6.5, 3, 4, 5, 6.5, 2.5, 7] * 5)
    r = cohen_kappa(a, b, EA, "quadratic", ci="bca", n_boot=2000, seed=3)
    assert r.ci == r.bootstrap.bca and r.ci != r.bootstrap.percentile
    assert r.ci[0] < r.estimate < r.ci[1]
    assert "BCa" in r.method and "seed=3" in r.method


@pytest.mark.parametrize(
    ("data", "measures"),
    [
        ([[1, 2], [2, 1]], "single"),  # n = k = 2 with MSR = MSC = 0: denominator 0
        ([[1, 2], [2, 1]], "average"),
        ([[1, 2, 3, 1], [3, 1, 1, 3]], "average"),  # coders differ more than units: denominator < 0
        ([[1, 1, 1.5, 1.5, 1], [1.5, 1.5, 1, 1, 2]], "average"),  # denominator 0 up to rounding
    ],
)
def test_icc_is_undefined_when_its_denominator_is_not_positive(data, measures):
    """pingouin returns -inf, 5.33 or 1e16 here; an ICC outside [-1, 1] is no answer."""
    r = icc(data, EA, measures)
    assert math.isnan(r.estimate)
    assert "denominator is not positive" in r.undefined


def test_icc_interval_is_empty_rather_than_reversed_when_the_df_collapse():
    """MSR = 0, MSC = 1/6, MSE = 2/3: ICC(A,1) = -(2/3) / (1/3) = -2, a legitimate sample value
    (only the population ICC is bounded by -1/(k-1)); its Satterthwaite df collapse to 0."""
    r = icc([[1, 2, 1], [2, 1, 2]], Scale(1, 5))
    assert r.estimate == pytest.approx(-2.0)
    assert math.isnan(r.ci[0]) and math.isnan(r.ci[1])


@pytest.mark.parametrize(
    ("single_bounds", "average_bounds"),
    [
        ((-1.0, 0.5), (math.nan, math.nan)),  # at -1/(k-1): Spearman-Brown divides by zero
        ((-1 + 1e-12, 0.5), (math.nan, math.nan)),  # found by hypothesis: came out as -3e11 before
        ((-0.5, 0.5), (-2.0, 2 / 3)),  # x k / (1 + x (k - 1)) with k = 2
    ],
)
def test_average_icc_interval_is_stepped_up_only_where_spearman_brown_is_monotone(
    monkeypatch, single_bounds, average_bounds
):
    icc_module = importlib.import_module("reliability.icc")

    monkeypatch.setattr(icc_module, "_single_interval", lambda *args: single_bounds)
    r = icc([[1, 2, 3, 1, 1.5], [2, 1.5, 3, 1.5, 2]], EA, "average")
    assert r.ci == pytest.approx(average_bounds, nan_ok=True)
