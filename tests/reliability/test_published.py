"""Published reference values, pinned: each number below comes from the cited source, not from us."""

import numpy as np
import pytest

from reliability import Scale, cohen_kappa, gwet_from_table, icc, kappa_from_table, krippendorff_alpha

# Fleiss, Cohen & Everitt (1969), Psychol Bull 72:323, Table 1 and its agreement weights.
FCE_TABLE = [[106, 10, 4], [22, 28, 10], [2, 12, 6]]
FCE_WEIGHTS = [[1, 0, 4 / 9], [0, 1, 2 / 3], [4 / 9, 2 / 3, 1]]

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", 4 coders x 12 units.
NAN = np.nan
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]

# Shrout & Fleiss (1979), Psychol Bull 86:420, Table 2: 6 targets (columns) x 4 judges (rows).
SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]).T

# Gwet's irrCAC example tables (README of kgwet/irrCAC; the irrCAC Python port's docs and tests).
CONT3X3_ABSTRACTORS = [[13, 0, 0], [0, 20, 7], [0, 4, 56]]
CONT4X4_DIAGNOSIS = [[40, 4, 4, 17], [6, 25, 2, 13], [4, 1, 21, 12], [15, 5, 9, 45]]


def test_weighted_kappa_and_both_standard_errors_match_fleiss_cohen_everitt():
    r = kappa_from_table(FCE_TABLE, FCE_WEIGHTS)
    assert r.estimate == pytest.approx(0.50706, abs=5e-6)
    assert r.se == pytest.approx(0.05699, abs=5e-6)
    assert r.details["se_null"] == pytest.approx(0.06534, abs=5e-6)
    assert r.n == 200


def test_unweighted_kappa_and_se_match_fleiss_cohen_everitt():
    r = kappa_from_table(FCE_TABLE, "none")
    assert r.estimate == pytest.approx(0.42857, abs=5e-6)
    assert r.se == pytest.approx(0.05371, abs=5e-6)


def test_analytic_interval_is_estimate_plus_minus_z_se():
    r = kappa_from_table(FCE_TABLE, FCE_WEIGHTS, confidence=0.95)
    assert r.ci == pytest.approx((0.50706 - 1.959964 * 0.05699, 0.50706 + 1.959964 * 0.05699), abs=5e-5)


@pytest.mark.parametrize(
    ("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)]
)
def test_krippendorff_alpha_matches_krippendorff_2011(level, published):
    r = krippendorff_alpha(KRIPPENDORFF_2011, Scale(1, 5), level, n_boot=0)
    assert round(r.estimate, 3) == published
    # Unit 12 has a single value: not pairable.
    assert (r.n, r.n_dropped) == (11, 1)


def test_icc_matches_shrout_fleiss_and_mcgraw_wong_intervals():
    single = icc(SHROUT_FLEISS, Scale(1, 10), "single")
    average = icc(SHROUT_FLEISS, Scale(1, 10), "average")
    # Shrout & Fleiss print ICC(2,1) = .29 and ICC(2,4) = .62; intervals as pingouin prints them.
    assert round(single.estimate, 2) == 0.29
    assert round(average.estimate, 2) == 0.62
    assert single.ci == pytest.approx((0.0187865134, 0.7610843696), abs=1e-8)
    assert average.ci == pytest.approx((0.0711368153, 0.9272320402), abs=1e-8)


def test_gwet_ac1_matches_irrcac_readme():
    # kgwet/irrCAC README: "Gwet's AC1 0.8493305 0.04321747 (0.764,0.935)".
    r = gwet_from_table(CONT3X3_ABSTRACTORS, "none")
    assert r.estimate == pytest.approx(0.8493305, abs=5e-8)
    assert r.se == pytest.approx(0.04321747, abs=5e-9)
    assert r.ci == pytest.approx((0.764, 0.935), abs=5e-4)


@pytest.mark.parametrize(
    ("table", "weights", "estimate", "se"),
    [
        (CONT3X3_ABSTRACTORS, "quadratic", 0.94024, 0.01792),
        (CONT3X3_ABSTRACTORS, "linear", 0.90002272, 0.02927560),
        (CONT4X4_DIAGNOSIS, "none", 0.4561576355, 0.04344987),
        (CONT4X4_DIAGNOSIS, "quadratic", 0.2985729967, 0.07517948),
        (CONT4X4_DIAGNOSIS, "linear", 0.3770678836, 0.05606457),
    ],
)
def test_gwet_ac2_matches_irrcac(table, weights, estimate, se):
    r = gwet_from_table(table, weights)
    assert r.estimate == pytest.approx(estimate, abs=5e-6)
    assert r.se == pytest.approx(se, abs=5e-6)


def test_trial_pilot_sensitivity_perfect_agreement_gives_kappa_one_with_zero_width():
    """The trial's eight pilot videos: identical sensitivity scores, weighted kappa 1.0."""
    scores = [5.5, 6, 4, 6.5, 3, 5, 7, 4.5]
    r = cohen_kappa(scores, scores, Scale(1, 7, 0.5), "quadratic")
    assert (r.estimate, r.se, r.ci) == (1.0, 0.0, (1.0, 1.0))
