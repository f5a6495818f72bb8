"""Statistical validity of the bootstrap intervals, deterministic through fixed seeds.

Our bootstraps take shortcuts (kappa: one multinomial draw per resample over the table's cells;
alpha: resample weights applied to per-unit coincidence matrices). These checks compare them
with the slow, obvious bootstrap (resample units, call a peer library per resample), with
scipy's BCa, with the analytic SE for large samples, and with the coverage they should have.
Tolerances are several Monte-Carlo standard errors wide; the seeds make every run identical.
"""

import math

import krippendorff
import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score

from reliability import Scale, cohen_kappa, kappa_from_table, krippendorff_alpha

EA = Scale(1, 7, 0.5)
FIVE = Scale(1, 5)


def ratings_pair(n: int, seed: int, scale: Scale = EA, noise: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    """Two coders scoring n units: a shared true score plus coder noise, rounded onto the grid."""
    rng = np.random.default_rng(seed)
    truth = rng.normal((scale.low + scale.high) / 2, (scale.high - scale.low) / 5, n)

    def coder():
        raw = truth + rng.normal(0, noise, n)
        return np.clip(np.round((raw - scale.low) / scale.step), 0, scale.k - 1) * scale.step + scale.low

    return coder(), coder()


def coder_matrix(coders: int, units: int, seed: int, scale: Scale = FIVE, missing: float = 0.15) -> np.ndarray:
    """coders x units scores with a shared true score per unit and ~``missing`` of them absent."""
    rng = np.random.default_rng(seed)
    truth = rng.normal((scale.low + scale.high) / 2, (scale.high - scale.low) / 4, units)
    raw = truth + rng.normal(0, 0.7, (coders, units))
    data = np.clip(np.round((raw - scale.low) / scale.step), 0, scale.k - 1) * scale.step + scale.low
    data[rng.random((coders, units)) < missing] = np.nan
    return data


def kappa_by_hand(x, y, k: int, weights: str, axis: int = -1) -> np.ndarray:
    """Weighted kappa of level-index arrays, vectorised over leading axes (for scipy.stats.bootstrap).

    Disagreement-weight form, 1 - sum(d p_obs) / sum(d p_exp), written independently of ours.
    """
    x, y = np.moveaxis(np.asarray(x), axis, -1).astype(int), np.moveaxis(np.asarray(y), axis, -1).astype(int)
    batch, n = x.shape[:-1], x.shape[-1]
    codes = (x * k + y).reshape(-1, n)
    m = codes.shape[0]
    cells = np.bincount((codes + k * k * np.arange(m)[:, None]).ravel(), minlength=m * k * k)
    p = cells.reshape(m, k, k) / n
    gap = np.abs(np.subtract.outer(np.arange(k), np.arange(k))) / (k - 1)
    d = {"none": (gap > 0).astype(float), "linear": gap, "quadratic": gap**2}[weights]
    observed = (p * d).sum(axis=(1, 2))
    expected = (p.sum(axis=2)[:, :, None] * p.sum(axis=1)[:, None, :] * d).sum(axis=(1, 2))
    return (1 - observed / expected).reshape(batch)


# --- Seeds ------------------------------------------------------------------------------------


def test_kappa_bootstrap_same_seed_same_interval_other_seed_other_replicates():
    """A reported seed must reproduce the interval exactly; another seed must draw other resamples."""
    a, b = ratings_pair(120, seed=1)
    first = cohen_kappa(a, b, EA, "quadratic", ci="bootstrap", n_boot=2000, seed=7)
    again = cohen_kappa(a, b, EA, "quadratic", ci="bootstrap", n_boot=2000, seed=7)
    other = cohen_kappa(a, b, EA, "quadratic", ci="bootstrap", n_boot=2000, seed=8)
    assert first.bootstrap.seed == 7 and "seed=7" in first.method
    assert first.ci == again.ci and first.bootstrap == again.bootstrap
    assert other.bootstrap.seed == 8
    assert other.bootstrap.se != first.bootstrap.se
    assert other.bootstrap.percentile != first.bootstrap.percentile
    assert other.estimate == first.estimate  # the point estimate does not depend on the seed


def test_alpha_bootstrap_same_seed_same_interval_other_seed_other_replicates():
    """As for kappa: the unit bootstrap of alpha is a function of the data and the seed alone."""
    data = coder_matrix(3, 60, seed=2)
    first = krippendorff_alpha(data, FIVE, "ordinal", n_boot=2000, seed=11)
    again = krippendorff_alpha(data, FIVE, "ordinal", n_boot=2000, seed=11)
    other = krippendorff_alpha(data, FIVE, "ordinal", n_boot=2000, seed=12)
    assert first.bootstrap.seed == 11 and "seed=11" in first.method
    assert first.ci == again.ci and first.bootstrap == again.bootstrap
    assert other.bootstrap.se != first.bootstrap.se
    assert other.bootstrap.percentile != first.bootstrap.percentile


def test_seed_none_reports_an_integer_seed_that_reproduces_the_result():
    """Without a seed the result must still be reproducible from the seed it reports."""
    a, b = ratings_pair(80, seed=3)
    kappa = cohen_kappa(a, b, EA, "linear", ci="bca", n_boot=1000, seed=None)
    assert isinstance(kappa.bootstrap.seed, int)
    replay = cohen_kappa(a, b, EA, "linear", ci="bca", n_boot=1000, seed=kappa.bootstrap.seed)
    assert replay.ci == kappa.ci and replay.bootstrap == kappa.bootstrap
    fresh = cohen_kappa(a, b, EA, "linear", ci="bca", n_boot=1000, seed=None)
    assert fresh.bootstrap.seed != kappa.bootstrap.seed

    data = coder_matrix(3, 40, seed=4)
    alpha = krippendorff_alpha(data, FIVE, "interval", n_boot=1000, seed=None)
    assert isinstance(alpha.bootstrap.seed, int)
    replay = krippendorff_alpha(data, FIVE, "interval", n_boot=1000, seed=alpha.bootstrap.seed)
    assert replay.ci == alpha.ci and replay.bootstrap == alpha.bootstrap


# --- Kappa: multinomial table bootstrap vs the obvious one ------------------------------------


def test_multinomial_table_bootstrap_agrees_with_naive_unit_resampling_through_sklearn():
    """Resampling the table's cells by one multinomial draw is the unit bootstrap in disguise:
    its percentile interval and SE must match resampling unit indices and calling sklearn.
    """
    a, b = ratings_pair(300, seed=5)
    ia, ib = EA.index(a), EA.index(b)
    ours = cohen_kappa(a, b, EA, "quadratic", ci="bootstrap", n_boot=20_000, seed=21)
    rng = np.random.default_rng(22)
    labels = list(range(EA.k))
    naive = np.array(
        [
            cohen_kappa_score(ia[units], ib[units], labels=labels, weights="quadratic")
            for units in rng.integers(0, ia.size, size=(2000, ia.size))
        ]
    )
    assert ours.ci == ours.bootstrap.percentile
    assert ours.ci == pytest.approx(tuple(np.quantile(naive, [0.025, 0.975])), abs=0.01)
    assert ours.bootstrap.se == pytest.approx(naive.std(ddof=1), rel=0.10)


@pytest.mark.parametrize("weights", ["linear", "quadratic"])
def test_bootstrap_se_of_weighted_kappa_approaches_fleiss_cohen_everitt_se_for_large_n(weights):
    """For 3000 units the bootstrap and the large-sample SE estimate the same thing."""
    a, b = ratings_pair(3000, seed=6)
    analytic = cohen_kappa(a, b, EA, weights)
    boot = cohen_kappa(a, b, EA, weights, ci="bootstrap", n_boot=5000, seed=31)
    assert boot.se == analytic.se  # .se stays the analytic one whatever the interval
    assert boot.bootstrap.se == pytest.approx(analytic.se, rel=0.10)


def test_kappa_bca_and_percentile_agree_with_scipy_bootstrap():
    """Our BCa (jackknife per occupied cell) against scipy.stats.bootstrap's BCa over paired units.

    Skewed prevalence (most units at the top level) skews kappa's bootstrap distribution, so
    BCa moves well away from the percentile interval here and the check can tell them apart.
    """
    rng = np.random.default_rng(1)
    truth = np.where(rng.random(200) < 0.9, 4, rng.integers(0, 4, 200))
    ia, ib = (np.clip(np.round(truth + rng.normal(0, 0.6, 200)), 0, 4).astype(int) for _ in range(2))
    a, b = FIVE.levels[ia], FIVE.levels[ib]
    assert kappa_by_hand(ia, ib, FIVE.k, "quadratic") == pytest.approx(
        cohen_kappa_score(ia, ib, labels=list(range(FIVE.k)), weights="quadratic"), abs=1e-12
    )
    ours = cohen_kappa(a, b, FIVE, "quadratic", ci="bca", n_boot=50_000, seed=41)
    theirs = stats.bootstrap(
        (ia, ib),
        lambda x, y, axis: kappa_by_hand(x, y, FIVE.k, "quadratic", axis),
        paired=True,
        vectorized=True,
        n_resamples=20_000,
        batch=2500,
        method="BCa",
        rng=np.random.default_rng(42),
    )
    assert ours.ci == ours.bootstrap.bca
    assert ours.bootstrap.bca[0] - ours.bootstrap.percentile[0] > 0.02  # BCa matters on these data
    assert ours.bootstrap.bca == pytest.approx(
        (theirs.confidence_interval.low, theirs.confidence_interval.high), abs=0.012
    )
    assert ours.bootstrap.percentile == pytest.approx(
        tuple(np.quantile(theirs.bootstrap_distribution, [0.025, 0.975])), abs=0.012
    )
    assert ours.bootstrap.se == pytest.approx(theirs.standard_error, rel=0.05)


def test_undefined_resamples_are_left_out_and_counted_at_the_expected_rate():
    """With 18 of 20 units in one cell, a resample is all that cell (kappa 0/0) with chance
    0.9^20; those replicates must be counted in n_undefined, not averaged in as 0 or NaN.
    """
    n_boot = 20_000
    r = kappa_from_table([[18, 1], [1, 0]], "none", ci="bootstrap", n_boot=n_boot, seed=51)
    p = 0.9**20
    assert abs(r.bootstrap.n_undefined - n_boot * p) < 4 * math.sqrt(n_boot * p * (1 - p))
    assert all(math.isfinite(x) for x in (*r.bootstrap.percentile, r.bootstrap.se))


# --- Alpha: vectorised unit bootstrap vs the obvious one --------------------------------------


@pytest.mark.parametrize("level", ["ordinal", "interval"])
def test_alpha_unit_bootstrap_agrees_with_naive_column_resampling_through_krippendorff(level):
    """Resampling pairable units (columns) and calling the krippendorff package per resample
    must give the interval our weights-times-coincidences replicates give.
    """
    data = coder_matrix(3, 100, seed=9, missing=0.25)
    pairable = data[:, np.isfinite(data).sum(axis=0) >= 2]
    assert 0 < pairable.shape[1] < data.shape[1]  # some units are dropped as unpairable
    ours = krippendorff_alpha(data, FIVE, level, n_boot=20_000, seed=61)
    assert ours.n == pairable.shape[1]
    resamples = np.random.default_rng(62).integers(0, pairable.shape[1], size=(1000, pairable.shape[1]))
    naive = np.array(
        [krippendorff.alpha(pairable[:, u], value_domain=FIVE.levels, level_of_measurement=level) for u in resamples]
    )
    assert ours.ci == ours.bootstrap.percentile
    assert ours.ci == pytest.approx(tuple(np.quantile(naive, [0.025, 0.975])), abs=0.03)
    assert ours.bootstrap.se == pytest.approx(naive.std(ddof=1), rel=0.10)


# --- Coverage ---------------------------------------------------------------------------------


def test_kappa_intervals_cover_the_population_value_about_95_percent_of_the_time():
    """400 studies of 100 units drawn from a known 5 x 5 cell distribution: the analytic and the
    bootstrap percentile intervals of quadratic kappa should each cover the population kappa in
    roughly 95% of them (binomial SE 1.1 points; a wrong SE or resampling shows up as far less).
    """
    k = 5
    closeness = np.abs(np.subtract.outer(np.arange(k), np.arange(k)))
    cells = np.exp(-1.2 * closeness) * np.array([1, 2, 3, 2, 1])[:, None]
    cells /= cells.sum()
    d = (closeness / (k - 1)) ** 2
    population = 1 - (cells * d).sum() / (np.outer(cells.sum(axis=1), cells.sum(axis=0)) * d).sum()
    rng = np.random.default_rng(71)
    studies = rng.multinomial(100, cells.ravel(), size=400).reshape(-1, k, k)
    analytic = bootstrap = 0
    for i, table in enumerate(studies):
        r = kappa_from_table(table, "quadratic", ci="bootstrap", n_boot=1000, seed=1000 + i)
        half = 1.959963984540054 * r.se
        analytic += r.estimate - half <= population <= r.estimate + half
        bootstrap += r.ci[0] <= population <= r.ci[1]
    assert 0.91 <= analytic / len(studies) <= 0.98
    assert 0.91 <= bootstrap / len(studies) <= 0.98
