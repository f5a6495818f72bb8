"""The outcome tables from a long table: bad rows named, timepoints, arms, complete cases, follow-up."""

import math

import pandas as pd
import pytest

from outcomes import ROW_FIELDS, Design, check_scores, class_changes, outcome_tables
from reliability import RatingsError, Scale

EA = Scale(1, 7, 0.5, threshold=5.5)
SCALES = {"sens": EA}
HEADER = ["participant", "arm", "timepoint", "subscale", "score"]


def long(*records: tuple, first_row: int = 2) -> pd.DataFrame:
    """Records as a spreadsheet would give them: index = spreadsheet row numbers."""
    return pd.DataFrame(records, columns=HEADER, index=range(first_row, first_row + len(records)))


TRIAL = long(
    ("p1", "VIPP", "baseline", "sens", 5),
    ("p2", "VIPP", "baseline", "sens", 6),
    ("p3", "UC", "baseline", "sens", 5.5),
    ("p4", "UC", "baseline", "sens", 3),
    ("p1", "VIPP", "12m", "sens", 6),
    ("p3", "UC", "12m", "sens", 4),
    ("p1", "VIPP", "6m", "sens", 6),
    ("p2", "VIPP", "6m", "sens", 6.5),
    ("p3", "UC", "6m", "sens", 5),
    ("p4", "UC", "6m", "sens", 4),
)


def problems(frame: pd.DataFrame, scales=SCALES, **design) -> list[str]:
    with pytest.raises(RatingsError) as caught:
        outcome_tables(frame, scales, Design(**({"control": "UC", "baseline": "baseline"} | design)))
    return caught.value.problems


def test_every_bad_row_is_named_and_nothing_is_computed():
    frame = long(
        ("p1", "VIPP", "baseline", "sens", 5),
        ("p2", "UC", "baseline", "sens", 5.25),  # row 3: off the grid
        ("p3", "Waitlist", "baseline", "sens", 5),  # row 4: a third arm
        ("p1", "UC", "6m", "sens", 5),  # row 5: p1 in a second arm
        ("p4", "", "baseline", "sens", 5),  # row 6: blank arm
        ("p2", "UC", "baseline", "sens", 6),  # row 7: p2 baseline sens again
        ("p5", "UC", "baseline", "intrusive", 4),  # row 8: no scale for it
        ("p6", "UC", "baseline", "sens", " "),  # row 9: blank score
    )
    found = problems(frame)
    assert found == [
        "row 6: field 'arm' is blank",
        "row 9: field 'score' is blank",
        "row 8: subscale 'intrusive' has no declared scale (declared: sens)",
        "row 4: arm 'Waitlist' is a third arm; outcomes compare 'VIPP' with the control 'UC'",
        "row 5: participant 'p1' is in arm 'UC' here but in arm 'VIPP' in row 2",
        "row 3: score 5.25 is not on the scale 1-7 in steps of 0.5",
        "rows 3 and 7: the same participant, timepoint and subscale scored more than once",
    ]


def test_a_control_or_baseline_no_row_has_is_refused_by_name():
    assert problems(TRIAL, control="Usual care") == [
        "no row has the control arm 'Usual care' (arms in the data: 'VIPP', 'UC')"
    ]
    assert problems(TRIAL, baseline="week 0") == ["no row is at the baseline timepoint 'week 0'"]
    assert (
        problems(TRIAL, treatment="Waitlist")[0]
        == "no row has the treatment arm 'Waitlist' (arms in the data: 'VIPP', 'UC')"
    )
    only_control = long(("p1", "UC", "baseline", "sens", 5))
    assert problems(only_control) == ["every row is in the control arm 'UC': there is no arm to compare it with"]


def test_a_timepoint_not_declared_is_named_and_the_declared_order_kept():
    assert problems(TRIAL, timepoints=["baseline", "6m"]) == [
        "row 6: timepoint '12m' is not declared (declared: baseline, 6m)",
        "row 7: timepoint '12m' is not declared (declared: baseline, 6m)",
    ]
    assert (
        problems(TRIAL, timepoints=["6m", "12m"])[0]
        == "the baseline 'baseline' is not among the declared timepoints (6m, 12m)"
    )
    tables = outcome_tables(TRIAL, SCALES, Design("UC", "baseline", timepoints=["baseline", "6m", "12m"]))
    assert tables.rows["timepoint"].tolist() == ["baseline", "6m", "12m"]


def test_without_declared_timepoints_baseline_comes_first_then_as_they_appear():
    shuffled = TRIAL.iloc[::-1]
    tables = outcome_tables(shuffled, SCALES, Design("UC", "baseline"))
    assert tables.timepoints == ("baseline", "6m", "12m")
    assert tables.rows["timepoint"].tolist() == ["baseline", "6m", "12m"]


def test_a_scale_without_threshold_has_no_classes():
    assert problems(TRIAL, scales={"sens": Scale(1, 7, 0.5)}) == [
        "subscale 'sens' has no threshold, so no classes to compare"
    ]


def test_missing_columns_are_named():
    assert problems(TRIAL.drop(columns=["arm", "timepoint"])) == [
        "columns arm, timepoint missing (the scores need participant, arm, timepoint, subscale, score)"
    ]


def test_rows_have_exactly_the_issue_fields_and_changes_are_from_baseline():
    rows = outcome_tables(TRIAL, SCALES, Design("UC", "baseline")).rows
    assert list(rows.columns) == list(ROW_FIELDS)
    rows = rows.set_index("timepoint")
    assert rows.loc["baseline", ["change_treatment", "change_control", "change_difference"]].isna().all()
    # VIPP: 1/2 at baseline, 2/2 at 6m; UC: 1/2 at baseline, 0/2 at 6m.
    six = rows.loc["6m"]
    assert (six.change_treatment, six.change_control, six.change_difference) == (0.5, -0.5, 1.0)
    assert (six.n_treatment, six.events_treatment, six.n_control, six.events_control) == (2, 2, 2, 0)


def test_undefined_values_are_null_with_the_reason_in_the_notes_and_the_correction_is_labelled():
    tables = outcome_tables(TRIAL, SCALES, Design("UC", "baseline"))
    six = tables.rows.set_index("timepoint").loc["6m"]
    assert math.isnan(six.risk_ratio) and math.isnan(six.risk_ratio_ci_low)
    assert (
        "sens at 6m: risk ratio undefined: no one in the control arm is in class (0 of 2): the ratio divides by zero"
        in tables.notes
    )
    corrected = outcome_tables(TRIAL, SCALES, Design("UC", "baseline"), correction=True)
    ratio = corrected.comparisons["sens", "6m"].classes.risk_ratio
    assert ratio.estimate == pytest.approx((2.5 / 3) / (0.5 / 3)) and "Haldane-Anscombe" in ratio.method
    assert corrected.comparisons["sens", "baseline"].classes.risk_ratio.method == "Katz log (Katz et al. 1978)"


def test_complete_case_keeps_only_participants_scored_at_every_timepoint_and_follow_up_stays_whole():
    full = outcome_tables(TRIAL, SCALES, Design("UC", "baseline"))
    complete = outcome_tables(TRIAL, SCALES, Design("UC", "baseline"), complete_case=True)
    assert full.rows["timepoint"].tolist() == ["baseline", "12m", "6m"]
    assert full.rows["n_treatment"].tolist() == [2, 1, 2] and full.rows["n_control"].tolist() == [2, 1, 2]
    assert complete.rows["n_treatment"].tolist() == [1, 1, 1] and complete.rows["n_control"].tolist() == [1, 1, 1]
    assert complete.follow_up.equals(full.follow_up)


def test_follow_up_is_out_of_those_seen_at_baseline_or_the_allocation():
    follow_up = outcome_tables(TRIAL, SCALES, Design("UC", "baseline")).follow_up
    at_12m = follow_up[follow_up.timepoint == "12m"]
    assert at_12m[["arm", "n", "of", "rate"]].to_numpy().tolist() == [
        ["VIPP", 1, 2, 0.5],
        ["UC", 1, 2, 0.5],
        ["all", 2, 4, 0.5],
    ]
    allocation = {"p1": "VIPP", "p2": "VIPP", "p3": "UC", "p4": "UC", "p5": "UC"}  # p5 randomised, never seen
    follow_up = outcome_tables(TRIAL, SCALES, Design("UC", "baseline", randomised=allocation)).follow_up
    at_baseline = follow_up[follow_up.timepoint == "baseline"]
    assert at_baseline[["arm", "n", "of"]].to_numpy().tolist() == [["VIPP", 2, 2], ["UC", 2, 3], ["all", 4, 5]]


def test_a_participant_outside_their_allocation_is_named():
    allocation = {"p1": "VIPP", "p2": "UC", "p3": "UC"}
    found = problems(TRIAL, randomised=allocation)
    assert "row 3: participant 'p2' is allocated to 'UC', not to arm 'VIPP'" in found
    assert "row 5: participant 'p4' (arm 'UC') is not in the allocation" in found


def test_check_scores_gives_grid_levels_and_classes():
    clean = check_scores(TRIAL.astype({"score": str}), EA, Design("UC", "baseline"))
    assert clean["score"].tolist()[:4] == [5.0, 6.0, 5.5, 3.0] and clean["in_class"].tolist()[:4] == [0, 1, 1, 0]


def test_a_frame_whose_rows_share_labels_is_checked_by_position():
    frame = pd.concat([TRIAL, long(("p9", "VIPP", "baseline", "sens", 9))])
    assert problems(frame) == ["row 10: score 9 is outside the scale 1-7 in steps of 0.5"]


def test_class_changes_count_each_participant_from_their_baseline_class():
    moved = class_changes(check_scores(TRIAL, SCALES, Design("UC", "baseline")), "baseline")
    assert len(moved) == 1 * 2 * 2 * 2 * 2  # subscale x later timepoint x arm x class at baseline x class then
    flows = {tuple(r[1:5]): r[5] for r in moved.itertuples(index=False) if r[5]}
    # Baseline: p1 (VIPP) 0, p2 (VIPP) 1, p3 (UC) 1, p4 (UC) 0; 6m: 1, 1, 0, 0; 12m: p1 1, p3 0.
    assert flows == {
        ("12m", "VIPP", 0, 1): 1,
        ("12m", "UC", 1, 0): 1,
        ("6m", "VIPP", 0, 1): 1,
        ("6m", "VIPP", 1, 1): 1,
        ("6m", "UC", 0, 0): 1,
        ("6m", "UC", 1, 0): 1,
    }
