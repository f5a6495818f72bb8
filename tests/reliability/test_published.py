"""Published reference values, pinned: each number below comes from the cited source, not from us."""

import numpy as np
import pytest

from reliability import Scale, cohen_kappa, gwet_ac, gwet_from_table, icc, kappa_from_table, krippendorff_alpha

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


def raw_ratings(table) -> tuple[np.ndarray, np.ndarray]:
    """A table of counts as the two coders' scores (levels 1, 2, ...) of its units."""
    table = np.asarray(table)
    a, b = np.divmod(np.repeat(np.arange(table.size), table.ravel()), table.shape[0])
    return a + 1.0, b + 1.0


# Two coders' raw ratings. Ben and Gerry: irrCAC's raw_ben_gerry, the 11 units both rated, a-e as 1-5.
# An 8-video pilot like the trial's non-intrusiveness (half points, levels 1-3 unused; quadratic
# weighted kappa 0.89). Ten made-up VIPP adherence pairs (1-5, nothing below 3).
RAW = {
    "abstractors": (*raw_ratings(CONT3X3_ABSTRACTORS), Scale(1, 3)),
    "diagnosis": (*raw_ratings(CONT4X4_DIAGNOSIS), Scale(1, 4)),
    "ben and gerry": ([1, 1, 2, 2, 4, 3, 3, 3, 5, 4, 1], [2, 1, 2, 2, 2, 3, 3, 3, 5, 4, 4], Scale(1, 5)),
    "pilot": ([6, 5.5, 4, 6.5, 3.5, 5, 7, 4.5], [6, 5.5, 4, 7, 3.5, 6, 6, 4.5], Scale(1, 7, 0.5)),
    "vipp": ([4, 5, 3, 4, 5, 4, 3, 5, 4, 4], [4, 5, 4, 4, 5, 3, 3, 5, 4, 5], Scale(1, 5, 1)),
}


@pytest.mark.parametrize(
    ("data", "weights", "estimate", "se", "ci"),
    [
        # irrCAC 0.4.4: irrCAC.raw.CAC(ratings, weights, categories=the full grid, digits=10).gwet().
        ("abstractors", "none", 0.8493305482, 0.0434351891, (0.7631457096, 0.9355153868)),
        ("abstractors", "linear", 0.9000227221, 0.0294230867, (0.8416409347, 0.9584045095)),
        ("abstractors", "quadratic", 0.9402368793, 0.0180104671, (0.9045002051, 0.9759735534)),
        ("diagnosis", "none", 0.4561576355, 0.0435476246, (0.3703380097, 0.5419772612)),
        ("diagnosis", "linear", 0.3770678836, 0.0561906987, (0.2663324582, 0.487803309)),
        ("diagnosis", "quadratic", 0.2985729967, 0.0753486106, (0.1500829326, 0.4470630608)),
        ("ben and gerry", "none", 0.6615384615, 0.1752683382, (0.2710162676, 1.0)),
        ("ben and gerry", "linear", 0.6732673267, 0.1919805824, (0.2455079323, 1.0)),
        ("ben and gerry", "quadratic", 0.7072243346, 0.2069727068, (0.2460604054, 1.0)),
        ("pilot", "none", 0.5963559916, 0.197017371, (0.130483938, 1.0)),
        ("pilot", "linear", 0.8725438131, 0.0655514194, (0.7175393371, 1.0)),
        ("pilot", "quadratic", 0.9695838907, 0.0168855255, (0.9296559677, 1.0)),
        ("vipp", "none", 0.6433878158, 0.1823444239, (0.2308960712, 1.0)),
        ("vipp", "linear", 0.8568019093, 0.0749197254, (0.6873217158, 1.0)),
        ("vipp", "quadratic", 0.9536679537, 0.0248463877, (0.8974615198, 1.0)),
    ],
)
def test_gwet_ac_on_raw_ratings_matches_irrcac_raw(data, weights, estimate, se, ci):
    a, b, scale = RAW[data]
    r = gwet_ac(a, b, scale, weights)
    assert r.estimate == pytest.approx(estimate, abs=1e-10)
    assert r.se == pytest.approx(se, abs=1e-10)
    assert r.ci == pytest.approx(ci, abs=1e-9)


def test_trial_pilot_sensitivity_perfect_agreement_gives_kappa_one_with_zero_width():
    """The trial's eight pilot videos: identical sensitivity scores, weighted kappa 1.0."""
    scores = [5.5, 6, 4, 6.5, 3, 5, 7, 4.5]
    r = cohen_kappa(scores, scores, Scale(1, 7, 0.5), "quadratic")
    assert (r.estimate, r.se, r.ci) == (1.0, 0.0, (1.0, 1.0))
