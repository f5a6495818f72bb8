"""`obscode reliability`: the agreement table for a PI with a spreadsheet."""

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from coding_app.cli import app

DEMO = Path(__file__).parents[2] / "fixtures" / "demo_ratings.csv"
runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, [str(a) for a in args])


def test_table_shows_every_statistic_with_bands_and_the_seed():
    result = run("reliability", DEMO, "--scale", "1:7:0.5", "--threshold", "5.5")
    assert result.exit_code == 0, result.output
    for text in (
        "ea_sensitivity: R1 vs R2",
        "ea_non_intrusiveness: R1 vs R2",
        "weighted kappa (quadratic)",
        "class kappa (>= 5.5)",
        "Gwet AC1",
        "ICC(A,k)",
        "Krippendorff alpha (ordinal)",
        "almost perfect",
        "seed = 1",
        "n = 29 units scored by both; 1 by only one",
    ):
        assert text in result.output


def test_json_is_reproducible_and_carries_its_settings():
    first = json.loads(run("reliability", DEMO, "--format", "json", "--seed", "5").output)
    again = json.loads(run("reliability", DEMO, "--format", "json", "--seed", "5").output)
    assert first == again
    assert first["settings"]["seed"] == 5 and first["settings"]["n_boot"] == 1000
    assert [r["subscale"] for r in first["rows"]] == ["ea_sensitivity", "ea_non_intrusiveness"]
    assert first["rows"][0]["class_kappa"] is None  # no --threshold: no classes, null not NaN


def test_csv_round_trips_to_the_library_table(tmp_path):
    result = run("reliability", DEMO, "--format", "csv", "--threshold", "5.5")
    out = tmp_path / "out.csv"
    out.write_text(result.output)
    table = pd.read_csv(out)
    assert table.shape[0] == 2 and table["n"].tolist() == [29, 29]
    assert table["class_kappa"].notna().all()


def test_per_subscale_scales(tmp_path):
    path = tmp_path / "fidelity.csv"
    path.write_text(
        "unit,coder,subscale,score\ns1,F1,vipp_adherence,3\ns1,F2,vipp_adherence,4\n"
        "s2,F1,vipp_adherence,5\ns2,F2,vipp_adherence,5\ns3,F1,vipp_adherence,2\n"
        "s3,F2,vipp_adherence,3\n"
    )
    result = run("reliability", path, "--scale", "vipp_adherence=1:5:1", "--threshold", "3", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "vipp_adherence,F1,F2,3," in result.output


def test_bad_rows_are_reported_by_spreadsheet_row_and_exit_2(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("unit,coder,subscale,score\nu1,A,s,5\nu1,B,s,5.25\nu2,A,s,eight\n")
    result = run("reliability", path)
    assert result.exit_code == 2
    assert "row 3: score 5.25 is not on the scale 1-7 in steps of 0.5" in result.output
    assert "row 4: score 'eight' is not a number" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "1-7"], "LOW:HIGH:STEP"),
        (["--scale", "a=1:7:0.5", "--scale", "1:5"], "either one --scale"),
        (["--threshold", "5.25"], "threshold 5.25 must be a level"),
    ],
)
def test_bad_scale_options_are_refused(args, message):
    result = run("reliability", DEMO, *args)
    assert result.exit_code == 2
    assert message in result.output


def test_the_level_is_one_of_alphas_levels_checked_as_given():
    result = run("reliability", DEMO, "--level", "nomial")
    assert result.exit_code == 2
    assert "'nomial' is not one of 'nominal', 'ordinal', 'interval', 'ratio'" in " ".join(
        line.strip("│ ") for line in result.output.splitlines()
    )
    assert run("reliability", DEMO, "--level", "nominal", "--n-boot", "0").exit_code == 0
