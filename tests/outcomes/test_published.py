"""Published reference values, pinned: each number below comes from the cited source, not from us."""

import math

import pytest

from outcomes import ArmScores, compare_scores, hedges_g, proportion, risk_difference

# Newcombe (1998), "Two-sided confidence intervals for the single proportion: comparison of seven
# methods", Stat Med 17:857-872, worked examples, the Clopper-Pearson "exact" method, to 4 decimals.
NEWCOMBE_SINGLE = [
    (81, 263, 0.2527, 0.3676),
    (15, 148, 0.0578, 0.1617),
    (0, 20, 0.0000, 0.1684),
    (1, 29, 0.0009, 0.1776),
]

# Newcombe (1998), "Interval estimation for the difference between independent proportions:
# comparison of eleven methods", Stat Med 17:873-890, worked examples, method 1 (simple asymptotic, no continuity
# correction), examples (a) to (d), to 4 decimals.
NEWCOMBE_DIFFERENCE = [
    (56, 70, 48, 80, 0.0575, 0.3425),
    (9, 10, 3, 10, 0.2605, 0.9395),
    (6, 7, 2, 7, 0.1481, 0.9947),
    (5, 56, 0, 29, 0.0146, 0.1640),
]

# Student (1908) / Cushny & Peebles: extra hours of sleep on two drugs (R's datasets::sleep),
# and R's t.test(extra ~ group, data = sleep, var.equal = TRUE): interval -3.363874 to 0.203874.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]


@pytest.mark.parametrize(("events", "n", "low", "high"), NEWCOMBE_SINGLE)
def test_clopper_pearson_matches_newcombe_1998_single_proportions(events, n, low, high):
    ci = proportion(events, n).ci
    assert ci[0] == pytest.approx(low, abs=5e-5) and ci[1] == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(("a", "n1", "c", "n2", "low", "high"), NEWCOMBE_DIFFERENCE)
def test_wald_risk_difference_matches_newcombe_1998_differences(a, n1, c, n2, low, high):
    r = risk_difference(a, n1, c, n2)
    assert r.ci[0] == pytest.approx(low, abs=5e-5) and r.ci[1] == pytest.approx(high, abs=5e-5)


@pytest.mark.parametrize(("a", "n1", "c", "n2"), [(0, 10, 0, 20), (0, 10, 0, 10), (10, 10, 0, 20), (10, 10, 0, 10)])
def test_the_zero_width_wald_intervals_newcombe_calls_aberrant_are_reported_undefined(a, n1, c, n2):
    # Newcombe (1998, Stat Med 17:873), examples (e) to (h): Wald gives 0.0000 to 0.0000 or 1.0000 to 1.0000.
    r = risk_difference(a, n1, c, n2)
    assert r.estimate == a / n1 - c / n2
    assert math.isnan(r.ci[0]) and "zero width" in r.undefined


def test_pooled_t_interval_matches_r_on_students_sleep_data():
    r = compare_scores(SLEEP_1, SLEEP_2).mean_difference
    assert r.estimate == pytest.approx(-1.58, abs=1e-12)
    assert r.ci[0] == pytest.approx(-3.363874, abs=5e-7) and r.ci[1] == pytest.approx(0.203874, abs=5e-7)


def test_hedges_g_matches_borenstein_2009_worked_example():
    # Borenstein, Hedges, Higgins & Rothstein (2009), Introduction to Meta-Analysis, ch. 4:
    # means 103 and 100, SDs 5.5 and 4.5, 50 per arm: d = 0.5970, J = 0.9923, g = 0.5924.
    r = hedges_g(ArmScores(50, 103, 5.5), ArmScores(50, 100, 4.5))
    assert r.estimate == pytest.approx(0.5924, abs=5e-5)
    # Their SE of g is J * SE(d) = 0.2028; the source trial's (DESIGN.md) puts g into d's variance formula.
    assert r.se == pytest.approx(math.sqrt(100 / 2500 + r.estimate**2 / 200), abs=1e-12)
    assert r.se != pytest.approx(0.2028, abs=5e-5)
