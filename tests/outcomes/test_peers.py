"""Cross-checks against peer libraries on random tables (hypothesis), zero cells and tiny arms included.

Each test computes the same quantity with a library that shares no code with ``outcomes``
(statsmodels, scipy, pingouin) and demands agreement to 1e-9; where our result is undefined,
the test checks that the peer's answer is the degenerate one the reason names.
"""

import math

import numpy as np
import pandas as pd
import pingouin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest, norm, t, ttest_ind
from statsmodels.stats.contingency_tables import Table2x2
from statsmodels.stats.proportion import confint_proportions_2indep

from outcomes import (
    ROW_FIELDS,
    Design,
    clopper_pearson,
    compare_scores,
    outcome_tables,
    proportion,
    risk_difference,
    risk_ratio,
)
from reliability import Scale

TOLERANCE = 1e-9
CONFIDENCES = st.sampled_from([0.95, 0.9, 0.99])
EA = Scale(1, 7, 0.5, threshold=5.5)


def close(ours: float, theirs: float) -> bool:
    return math.isclose(ours, theirs, rel_tol=TOLERANCE, abs_tol=TOLERANCE)


@st.composite
def arms(draw, max_n: int = 60) -> tuple[int, int, int, int]:
    """Events and size of two arms: tiny arms (1 or 2) and all-or-none events come often."""
    size = st.one_of(st.integers(1, 3), st.integers(1, max_n))
    n1, n2 = draw(size), draw(size)
    events = lambda n: st.one_of(st.sampled_from([0, n]), st.integers(0, n))  # noqa: E731
    return draw(events(n1)), n1, draw(events(n2)), n2


def grid_scores(max_n: int = 25):
    """Scores on the EA half-point grid: constant arms and arms of one come up."""
    return st.one_of(
        st.lists(st.sampled_from(EA.levels.tolist()), min_size=1, max_size=max_n),
        st.lists(st.sampled_from([5.0, 5.5]), min_size=1, max_size=3),
    )


@given(st.integers(0, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), CONFIDENCES)
def test_clopper_pearson_matches_scipy_binomtest_exact(counts, confidence):
    events, n = counts
    if n == 0:
        assert proportion(events, n).undefined and math.isnan(proportion(events, n).ci[0])
        return
    theirs = binomtest(events, n).proportion_ci(confidence_level=confidence, method="exact")
    ours = proportion(events, n, confidence)
    assert close(ours.ci[0], theirs.low) and close(ours.ci[1], theirs.high)
    assert ours.estimate == events / n


@given(
    st.lists(st.integers(1, 80).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))), min_size=1, max_size=20)
)
def test_clopper_pearson_over_arrays_is_the_same_as_one_at_a_time(counts):
    events, n = (np.array(c) for c in zip(*counts, strict=True))
    low, high = clopper_pearson(events, n)
    for i, (x, m) in enumerate(counts):
        assert (low[i], high[i]) == proportion(x, m).ci


@given(arms(), CONFIDENCES)
def test_risk_difference_matches_statsmodels_wald(table, confidence):
    a, n1, c, n2 = table
    ours = risk_difference(a, n1, c, n2, confidence)
    low, high = confint_proportions_2indep(a, n1, c, n2, method="wald", compare="diff", alpha=1 - confidence)
    assert close(ours.estimate, a / n1 - c / n2)
    if ours.undefined:
        # Every participant of each arm in one class: statsmodels' Wald interval has zero width.
        assert a in (0, n1) and c in (0, n2)
        assert low == high == ours.estimate and math.isnan(ours.ci[0])
    else:
        assert close(ours.ci[0], low) and close(ours.ci[1], high)


def statsmodels_rr(table: np.ndarray, confidence: float) -> tuple[float, float, float]:
    with np.errstate(all="ignore"):
        peer = Table2x2(table, shift_zeros=False)
        return float(peer.riskratio), *(float(x) for x in peer.riskratio_confint(alpha=1 - confidence))


@given(arms(), CONFIDENCES)
def test_risk_ratio_matches_statsmodels_table2x2_katz(table, confidence):
    a, n1, c, n2 = table
    ours = risk_ratio(a, n1, c, n2, confidence)
    rr, low, high = statsmodels_rr(np.array([[a, n1 - a], [c, n2 - c]], dtype=float), confidence)
    if a == 0 or c == 0:
        # statsmodels gives 0, inf or nan here; we say undefined and why.
        assert not ours.defined and "is in class (0 of" in ours.undefined and math.isnan(ours.ci[0])
        assert rr == 0 or not math.isfinite(rr) or math.isnan(low)
    elif a == n1 and c == n2:
        assert ours.estimate == 1 and low == high == 1 and ours.undefined.startswith("interval undefined")
    else:
        assert ours.undefined is None
        assert close(ours.estimate, rr) and close(ours.ci[0], low) and close(ours.ci[1], high)


@given(arms(), CONFIDENCES)
def test_corrected_risk_ratio_adds_a_half_to_every_cell_when_an_arm_has_no_events(table, confidence):
    a, n1, c, n2 = table
    ours = risk_ratio(a, n1, c, n2, confidence, correction=True)
    shifted = np.array([[a, n1 - a], [c, n2 - c]], dtype=float) + (0.5 if a == 0 or c == 0 else 0)
    rr, low, high = statsmodels_rr(shifted, confidence)
    assert ("Haldane" in ours.method) == (a == 0 or c == 0)
    if ours.undefined:
        assert a == n1 and c == n2 and low == high
    else:
        assert close(ours.estimate, rr) and close(ours.ci[0], low) and close(ours.ci[1], high)


# scipy warns of "precision loss" whenever one arm's scores are all equal; the result is exact here.
@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
@given(grid_scores(), grid_scores(), CONFIDENCES)
def test_pooled_t_interval_matches_scipy_ttest_ind(one, two, confidence):
    ours = compare_scores(one, two, confidence).mean_difference
    assert close(ours.estimate, np.mean(one) - np.mean(two))
    if len(one) + len(two) < 3 or (np.ptp(one) == 0 and np.ptp(two) == 0):
        assert ours.undefined.startswith("interval undefined") and math.isnan(ours.ci[0])
        return
    peer = ttest_ind(one, two, equal_var=True).confidence_interval(confidence)
    assert close(ours.ci[0], peer.low) and close(ours.ci[1], peer.high)


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")
@given(grid_scores(), grid_scores(), CONFIDENCES)
def test_hedges_g_matches_pingouin_and_the_issue_standard_error(one, two, confidence):
    n1, n2 = len(one), len(two)
    ours = compare_scores(one, two, confidence).hedges_g
    if n1 + n2 < 3 or (np.ptp(one) == 0 and np.ptp(two) == 0):
        assert not ours.defined and ours.undefined
        return
    # Cohen's d from scipy's pooled t, corrected by the issue's factor; pingouin where both arms have two or
    # more (it reads a second arm of one as a one-sample test, and an arm of one has no variance for it).
    d = ttest_ind(one, two).statistic * math.sqrt(1 / n1 + 1 / n2)
    g = d * (1 - 3 / (4 * (n1 + n2) - 9))
    if min(n1, n2) >= 2:
        assert close(g, pingouin.compute_effsize(one, two, eftype="hedges"))
    assert close(ours.estimate, g)
    # pingouin's interval is g -+ t(n1 + n2 - 2) SE with the same SE; ours uses z (the issue's normal interval).
    # The SE is symmetric in the arms: the larger goes second, since pingouin reads ny = 1 as one-sample.
    low, high = pingouin.compute_esci(
        stat=g, nx=min(n1, n2), ny=max(n1, n2), eftype="cohen", confidence=confidence, decimals=15
    )
    se = (high - low) / (2 * t.ppf((1 + confidence) / 2, n1 + n2 - 2))
    assert close(ours.se, se)
    assert close(ours.se, math.sqrt((n1 + n2) / (n1 * n2) + g**2 / (2 * (n1 + n2))))
    assert close(ours.ci[0], g - norm.ppf((1 + confidence) / 2) * se) and close(
        ours.ci[1], g + norm.ppf((1 + confidence) / 2) * se
    )


@given(grid_scores(), grid_scores())
def test_arm_summaries_match_numpy(one, two):
    for scores, arm in ((one, compare_scores(one, two).treatment), (two, compare_scores(one, two).control)):
        assert arm.n == len(scores) and close(arm.mean, np.mean(scores))
        assert math.isnan(arm.sd) if len(scores) < 2 else close(arm.sd, np.std(scores, ddof=1))


@st.composite
def trials(draw):
    """A small trial in long format: two arms, up to three timepoints, one or two subscales, attrition."""
    n = draw(st.integers(2, 14))
    arm = draw(st.lists(st.sampled_from(["VIPP", "Usual care"]), min_size=n, max_size=n))
    arm[:2] = ["VIPP", "Usual care"]
    records = []
    for p in range(n):
        for timepoint in ("baseline", "6m", "12m"):
            if timepoint != "baseline" and draw(st.integers(0, 4)) == 0:
                continue  # lost to follow-up at this visit
            for subscale in draw(st.sampled_from([["sens"], ["sens", "nonint"], ["nonint", "sens"]])):
                records.append((f"p{p}", arm[p], timepoint, subscale, draw(st.sampled_from(EA.levels.tolist()))))
    frame = pd.DataFrame(records, columns=["participant", "arm", "timepoint", "subscale", "score"])
    return frame.sample(frac=1, random_state=draw(st.integers(0, 1000))).reset_index(drop=True)


@settings(max_examples=40, deadline=None)
@given(trials(), st.booleans())
def test_table_rows_and_follow_up_agree_with_independent_counts_and_peers(long, complete_case):
    tables = outcome_tables(
        long,
        {"sens": EA, "nonint": EA},
        Design("Usual care", "baseline", treatment="VIPP"),
        complete_case=complete_case,
    )
    assert list(tables.rows.columns) == list(ROW_FIELDS)
    data = long
    if complete_case:
        visits = long.groupby(["subscale", "participant"])["timepoint"].nunique()
        keep = visits[visits == long.timepoint.nunique()].index
        data = long.set_index(["subscale", "participant"]).loc[lambda f: f.index.isin(keep)].reset_index()
    for row in tables.rows.itertuples():
        at = data[(data.subscale == row.subscale) & (data.timepoint == row.timepoint)]
        one, two = at[at.arm == "VIPP"], at[at.arm == "Usual care"]
        assert (row.n_treatment, row.n_control) == (len(one), len(two))
        assert (row.events_treatment, row.events_control) == ((one.score >= 5.5).sum(), (two.score >= 5.5).sum())
        if len(one) and len(two) and one.score.ge(5.5).any() and two.score.ge(5.5).any():
            table = np.array(
                [
                    [row.events_treatment, len(one) - row.events_treatment],
                    [row.events_control, len(two) - row.events_control],
                ],
                dtype=float,
            )
            rr, _, _ = statsmodels_rr(table, 0.95)
            assert close(row.risk_ratio, rr)
        if row.timepoint == "baseline":
            assert all(math.isnan(getattr(row, f)) for f in ("change_treatment", "change_control", "change_difference"))
    seen_at_baseline = long[long.timepoint == "baseline"].drop_duplicates("participant")
    for row in tables.follow_up.itertuples():
        members = seen_at_baseline if row.arm == "all" else seen_at_baseline[seen_at_baseline.arm == row.arm]
        seen = long[
            (long.timepoint == row.timepoint) & long.participant.isin(members.participant)
        ].participant.nunique()
        assert (row.n, row.of) == (seen, len(members))
        peer = binomtest(seen, len(members)).proportion_ci(method="exact")
        assert close(row.ci_low, peer.low) and close(row.ci_high, peer.high)
