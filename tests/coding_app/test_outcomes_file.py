"""`obscode outcomes FILE`: outcome tables of a long-format scores spreadsheet, for a statistician without the app."""

import csv
import io
import json
import math

import pandas as pd
from typer.testing import CliRunner

from coding_app.cli import app

runner = CliRunner()

# The field lists exactly as issue 13 gives them.
ROW_FIELDS = [
    "subscale",
    "timepoint",
    "n_treatment",
    "events_treatment",
    "n_control",
    "events_control",
    "risk_difference",
    "risk_difference_ci_low",
    "risk_difference_ci_high",
    "risk_ratio",
    "risk_ratio_ci_low",
    "risk_ratio_ci_high",
    "change_treatment",
    "change_control",
    "change_difference",
    "mean_treatment",
    "sd_treatment",
    "mean_control",
    "sd_control",
    "mean_difference",
    "mean_difference_ci_low",
    "mean_difference_ci_high",
    "hedges_g",
    "hedges_g_ci_low",
    "hedges_g_ci_high",
]
FOLLOW_UP_FIELDS = ["timepoint", "arm", "n", "of", "rate", "ci_low", "ci_high"]
OPTIONS = [
    "--scale",
    "ea_sensitivity=1:7:0.5",
    "--scale",
    "ea_non_intrusiveness=1:7:0.5",
    "--threshold",
    "5.5",
    "--control",
    "Usual care",
    "--baseline",
    "baseline",
]

# Sensitivity: VIPP 1/3 in class at baseline and 3/3 at follow-up; usual care 1/3 and 1/2 (m6 lost at follow-up).
SCORES = """participant,arm,timepoint,subscale,score
m1,VIPP,baseline,ea_sensitivity,5.5
m2,VIPP,baseline,ea_sensitivity,4
m3,VIPP,baseline,ea_sensitivity,5
m4,Usual care,baseline,ea_sensitivity,6
m5,Usual care,baseline,ea_sensitivity,3.5
m6,Usual care,baseline,ea_sensitivity,5
m1,VIPP,post,ea_sensitivity,6
m2,VIPP,post,ea_sensitivity,5.5
m3,VIPP,post,ea_sensitivity,6.5
m4,Usual care,post,ea_sensitivity,5.5
m5,Usual care,post,ea_sensitivity,4
m1,VIPP,baseline,ea_non_intrusiveness,6
m4,Usual care,baseline,ea_non_intrusiveness,5
m1,VIPP,post,ea_non_intrusiveness,6.5
m4,Usual care,post,ea_non_intrusiveness,5.5
"""


def run(*args: object):
    # Wide enough that rich does not wrap a table cell or a note.
    return runner.invoke(app, ["outcomes", *(str(a) for a in args)], env={"COLUMNS": "250"})


def scores_file(tmp_path, text: str = SCORES, name: str = "scores.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_json_is_one_object_with_exactly_the_issue_fields(tmp_path):
    result = run(scores_file(tmp_path), *OPTIONS, "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == ["rows", "follow_up"]
    assert [list(row) for row in out["rows"]] == [ROW_FIELDS] * 4
    assert [list(row) for row in out["follow_up"]] == [FOLLOW_UP_FIELDS] * 6
    assert [(r["subscale"], r["timepoint"]) for r in out["rows"]] == [
        ("ea_sensitivity", "baseline"),
        ("ea_sensitivity", "post"),
        ("ea_non_intrusiveness", "baseline"),
        ("ea_non_intrusiveness", "post"),
    ]


def test_json_numbers_are_fractions_from_counts_and_changes_null_at_baseline(tmp_path):
    rows = json.loads(run(scores_file(tmp_path), *OPTIONS, "--format", "json").output)["rows"]
    baseline, post = rows[0], rows[1]
    assert [baseline[f] for f in ("change_treatment", "change_control", "change_difference")] == [None] * 3
    assert (post["n_treatment"], post["events_treatment"], post["n_control"], post["events_control"]) == (3, 3, 2, 1)
    assert post["risk_difference"] == 1 - 1 / 2
    assert math.isclose(post["change_treatment"], 1 - 1 / 3) and math.isclose(post["change_control"], 1 / 2 - 1 / 3)
    assert math.isclose(post["change_difference"], (1 - 1 / 3) - (1 / 2 - 1 / 3))
    assert post["risk_ratio"] == 2.0
    assert math.isclose(post["mean_treatment"], 6) and math.isclose(post["mean_control"], 4.75)
    # Non-intrusiveness has one mother per arm: no SD, no interval, no g - null, not NaN or 0.
    tiny = rows[3]
    assert tiny["sd_treatment"] is None and tiny["mean_difference_ci_low"] is None and tiny["hedges_g"] is None
    assert tiny["mean_difference"] == 1.0


def test_follow_up_is_out_of_those_seen_at_baseline_with_exact_intervals(tmp_path):
    follow_up = json.loads(run(scores_file(tmp_path), *OPTIONS, "--format", "json").output)["follow_up"]
    post = [(f["arm"], f["n"], f["of"], f["rate"]) for f in follow_up if f["timepoint"] == "post"]
    assert post == [("VIPP", 3, 3, 1.0), ("Usual care", 2, 3, 2 / 3), ("all", 5, 6, 5 / 6)]
    everyone = next(f for f in follow_up if f["timepoint"] == "post" and f["arm"] == "all")
    # 5 of 6: the Clopper-Pearson interval is 0.3588 to 0.9958.
    assert math.isclose(everyone["ci_low"], 0.3588, abs_tol=5e-5) and math.isclose(
        everyone["ci_high"], 0.9958, abs_tol=5e-5
    )


def test_csv_is_the_rows_with_the_issue_header(tmp_path):
    result = run(scores_file(tmp_path), *OPTIONS, "--format", "csv")
    assert result.exit_code == 0, result.output
    records = list(csv.reader(io.StringIO(result.output)))
    assert records[0] == ROW_FIELDS and len(records) == 5
    assert records[2][:6] == ["ea_sensitivity", "post", "3", "3", "2", "1"]


def test_table_shows_arms_classes_scores_follow_up_and_why_values_are_missing(tmp_path):
    result = run(scores_file(tmp_path), *OPTIONS)
    assert result.exit_code == 0, result.output
    for text in (
        "ea_sensitivity: in class (score >= 5.5)",
        "ea_sensitivity: score",
        "3/3 (100.0%)",
        "1/2 (50.0%)",
        "Follow-up",
        "ea_non_intrusiveness at post: mean difference interval undefined",
        "Katz log",
    ):
        assert text in result.output


def test_xlsx_gives_the_same_numbers_as_csv(tmp_path):
    path = tmp_path / "scores.xlsx"
    pd.read_csv(io.StringIO(SCORES)).to_excel(path, index=False)
    from_xlsx = json.loads(run(path, *OPTIONS, "--format", "json").output)
    assert from_xlsx == json.loads(run(scores_file(tmp_path), *OPTIONS, "--format", "json").output)


def test_bad_rows_are_named_by_spreadsheet_row_and_nothing_is_printed(tmp_path):
    bad = (
        SCORES
        + "\n".join(
            [
                "m7,Waitlist,baseline,ea_sensitivity,5",  # row 17: a third arm
                "m2,Usual care,post,ea_non_intrusiveness,5",  # row 18: m2 is in VIPP
                "m8,VIPP,baseline,ea_sensitivity,5.2",  # row 19: off the grid
                "m9,VIPP,,ea_sensitivity,5",  # row 20: blank timepoint
                "m1,VIPP,post,ea_sensitivity,6",  # row 21: repeats row 8
            ]
        )
        + "\n"
    )
    result = run(scores_file(tmp_path, bad), *OPTIONS, "--format", "json")
    assert result.exit_code == 2
    for text in (
        "row 17: arm 'Waitlist' is a third arm",
        "row 18: participant 'm2' is in arm 'Usual care' here but in arm 'VIPP' in row 3",
        "row 19: score 5.2 is not on the scale 1-7",
        "row 20: field 'timepoint' is blank",
        "rows 8 and 21: the same participant, timepoint and subscale scored more than once",
    ):
        assert text in result.output
    assert '"rows"' not in result.output


def test_an_absent_control_and_an_undeclared_timepoint_are_refused(tmp_path):
    path = scores_file(tmp_path)
    result = run(path, *OPTIONS[:-4], "--control", "usual care")
    assert result.exit_code == 2 and "no row has the control arm 'usual care'" in result.output
    result = run(path, *OPTIONS, "--timepoint", "baseline", "--timepoint", "month 6")
    assert (
        result.exit_code == 2
        and "row 8: timepoint 'post' is not declared (declared: baseline, month 6)" in result.output
    )


def test_complete_case_and_the_zero_cell_correction(tmp_path):
    path = scores_file(tmp_path)
    complete = json.loads(run(path, *OPTIONS, "--format", "json", "--complete-case").output)["rows"]
    assert (complete[0]["n_treatment"], complete[0]["n_control"]) == (3, 2)  # m6 was not seen at follow-up
    zero = SCORES.replace("m4,Usual care,baseline,ea_sensitivity,6", "m4,Usual care,baseline,ea_sensitivity,5")
    plain = json.loads(run(scores_file(tmp_path, zero), *OPTIONS, "--format", "json").output)["rows"][0]
    assert plain["risk_ratio"] is None
    corrected = json.loads(
        run(scores_file(tmp_path, zero), *OPTIONS, "--format", "json", "--zero-cell-correction").output
    )["rows"][0]
    assert corrected["risk_ratio"] == (1.5 / 4) / (0.5 / 4)


def test_names_with_brackets_are_shown_as_written(tmp_path):
    path = scores_file(tmp_path, SCORES.replace("VIPP", "VIPP [SR]").replace(",post,", ",post [m6],"))
    result = run(path, *OPTIONS)
    assert result.exit_code == 0, result.output
    assert "VIPP [SR] n (%)" in result.output and "post [m6]" in result.output
