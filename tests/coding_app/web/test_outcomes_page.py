"""The Outcomes page (AppTest), `obscode outcomes` on the study and the downloads: the same numbers, the PI's
alone, after lock."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from coding_app.assignments import assign
from coding_app.cli import app
from coding_app.codebook import ANALYSIS_SCORES, DEFAULT_CODEBOOK, load_codebook
from coding_app.imports.ratings import import_ratings
from coding_app.interpretation import header
from coding_app.lock import lock
from coding_app.logins import Identity
from coding_app.outcome_report import dataset_file, outcome_report, report_html, report_tables, tables_xlsx
from coding_app.study_setup import initialise
from coding_app.web import identity, runtime
from outcomes import ROW_FIELDS
from tests.coding_app.helpers import PASSWORD, add_account, add_recordings, audit_rows, write_csv

APP = Path(identity.__file__).with_name("app.py")
VIPP, UC = "VIPP-PMH", "usual care"
SCORES = {  # participant -> (arm, baseline score, month 5 score); one coder, the primary
    "P1": (VIPP, 5, 6),
    "P2": (VIPP, 4, 6.5),
    "P3": (VIPP, 6, 6),
    "P4": (UC, 5, 5),
    "P5": (UC, 4.5, 4),
    "P6": (UC, 6, None),
}


@pytest.fixture
def trial(tmp_path, monkeypatch):
    """Six mothers, two visits, one rater; served to this process's pages; coding not yet locked."""
    url = f"sqlite:///{tmp_path / 'trial.db'}"
    monkeypatch.setenv("OBSCODE_DATABASE_URL", url)
    runtime.store.cache_clear()
    store = runtime.store()
    codebook = tmp_path / "codebook.toml"
    codebook.write_text(
        DEFAULT_CODEBOOK.read_text(encoding="utf-8") + f'\n[study]\narms = ["{VIPP}", "{UC}"]\n'
        'timepoints = ["baseline", "month 5"]\n[analysis]\ncontrol = "usual care"\n',
        encoding="utf-8",
    )
    initialise(store, load_codebook(codebook), "test")
    visits = [
        (p, arm, t, s)
        for p, (arm, *scores) in SCORES.items()
        for t, s in zip(("baseline", "month 5"), scores, strict=True)
    ]
    add_recordings(
        store,
        [
            dict(recording_id=f"{p}-{t}", participant_id=p, arm=arm, timepoint=t, kind="video")
            for p, arm, t, _ in visits
        ],
    )
    accounts = {name: add_account(store, name, role) for name, role in (("rater.one", "coder"), ("pi.one", "pi"))}
    assign(store, ["rater.one"], kind="video", seed=1, actor="pi.one")
    rows = [
        dict(recording_id=f"{p}-{t}", coder="rater.one", scale=scale, score=str(s))
        for p, _, t, s in visits
        if s is not None
        for scale in ("ea_sensitivity", "ea_non_intrusiveness")
    ]
    import_ratings(store, write_csv(tmp_path / "r.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one")
    yield url, store, accounts
    store.dispose()
    runtime.store.cache_clear()


def page_as(monkeypatch, account) -> AppTest:
    monkeypatch.setattr(identity, "current", lambda: Identity(account, "test-session"))
    return AppTest.from_file(str(APP), default_timeout=30).run().switch_page("views/outcomes.py").run()


def numbers(frame: pd.DataFrame) -> list[list]:
    """Rows as plain values, None for undefined, floats to 12 places (the same numbers, however carried)."""
    return [
        [None if pd.isna(v) else round(v, 12) if isinstance(v, float) else v for v in row]
        for row in frame[list(ROW_FIELDS)].astype(object).itertuples(index=False)
    ]


def rounded(frame: pd.DataFrame) -> list[list]:
    """Rows as the page shows them: numbers to 3 places, "—" for undefined."""

    def cell(value):
        if value is None or value == "—" or (isinstance(value, float) and math.isnan(value)):
            return "—"
        try:
            return f"{float(value):.3f}"
        except ValueError:
            return value

    return [[cell(v) for v in row] for row in frame[list(ROW_FIELDS)].astype(object).itertuples(index=False)]


def test_the_cli_the_page_and_the_downloads_agree_on_the_numbers(trial, monkeypatch):
    url, store, accounts = trial
    pi = accounts["pi.one"]
    lock(store, pi)
    monkeypatch.setenv("OBSCODE_PASSWORD", PASSWORD)
    written = Path(url.removeprefix("sqlite:///")).with_name("dataset.sav")
    said = CliRunner().invoke(
        app, ["--db", url, "--as", "pi.one", "outcomes", "--format", "json", "--dataset", str(written)]
    )
    assert said.exit_code == 0, said.output
    cli = json.loads(said.output)
    assert (
        ANALYSIS_SCORES["consensus_else_primary"] in cli["rule"]
        and cli["not_counted"][0]["reason"] == "no submitted rating"
    )
    cli_rows = numbers(pd.DataFrame(cli["rows"]).astype({f: float for f in ROW_FIELDS[2:]}))

    at = page_as(monkeypatch, pi)
    assert not at.exception and at.title[0].value == "Outcomes"
    fields = {
        header(f).replace("treatment", VIPP).replace("control", UC): f for f in ROW_FIELDS
    }  # headers in words, arms named
    labels = {d.label: key for key, d in load_codebook().scales.items()}
    shown = next(d.value for d in at.dataframe if set(d.value.columns) == set(fields)).rename(columns=fields)
    shown = shown.assign(subscale=shown["subscale"].map(labels))
    report = outcome_report(store, pi)
    sheet = pd.read_excel(io.BytesIO(tables_xlsx(report_tables(report))), sheet_name="numbers")
    assert cli_rows == numbers(sheet) == numbers(report.tables.rows)
    assert rounded(shown) == rounded(report.tables.rows)
    # read as a PI reads it: scale labels, headers in words, what waits
    assert set(at.dataframe[0].value["scale"]) == {
        "Maternal sensitivity (EA Scales)",
        "Maternal non-intrusiveness (EA Scales)",
    }
    assert list(at.dataframe[1].value.columns) == [
        "timepoint",
        "arm",
        "seen",
        "randomised",
        "share seen",
        "95% CI low",
        "95% CI high",
    ]
    assert "1 recording is not counted (listed under Not counted, with the reason)" in at.warning[0].value
    month5 = report.tables.rows.set_index(["subscale", "timepoint"]).loc[("ea_sensitivity", "month 5")]
    assert (month5.events_treatment, month5.n_treatment, month5.events_control, month5.n_control) == (3, 3, 0, 2)
    published = report.published.iloc[1]
    assert published[f"{VIPP} n (%)"] == "3/3 (100.0%)" and published[f"{UC} n (%)"] == "0/2 (0.0%)"
    html = report_html(report)
    assert "3/3 (100.0%)" in html and "<script src=" not in html and "Outcomes report" in html
    assert (
        "At month 5, 3 of 3 mothers in the VIPP-PMH arm and 0 of 2 in the usual care arm were rated Sensitive" in html
    )
    assert pyreadstat.read_sav(str(written))[0]["score"].tolist() == report.dataset.rows["score"].tolist()
    for fmt in ("sav", "dta"):
        (tmp := Path(store.url.removeprefix("sqlite:///")).with_name(f"d.{fmt}")).write_bytes(dataset_file(report, fmt))
        frame, meta = (pyreadstat.read_sav if fmt == "sav" else pyreadstat.read_dta)(str(tmp))
        assert frame["score"].tolist() == report.dataset.rows["score"].tolist()
        assert meta.variable_value_labels["arm"] == {1: VIPP, 2: UC}
        assert meta.variable_value_labels["in_class"] == {0: "below threshold", 1: "at or above threshold"}
    reads = audit_rows(store, "outcomes.read")
    assert {e.actor for e in reads} == {"pi.one"} and len(reads) >= 3  # the CLI, the page and the report above


def test_the_page_refuses_coders_and_waits_for_the_lock_unless_an_interim_reason_is_given(trial, monkeypatch):
    _, store, accounts = trial
    at = page_as(monkeypatch, accounts["rater.one"])
    assert [e.value for e in at.error] == ["This page is not available to your account."] and not at.dataframe
    assert [(e.actor, e.entity_id) for e in audit_rows(store, "refused.page")] == [("rater.one", "outcomes")]
    at = page_as(monkeypatch, accounts["pi.one"])
    assert "unblinded once coding is locked" in at.info[0].value and not at.dataframe
    assert audit_rows(store, "unblind.key_table") == []
    at.text_input[0].input("data monitoring committee, month 5")  # a form's fields are sent with its button
    at.button[0].click().run()
    assert "Interim look before lock: data monitoring committee, month 5" in at.warning[0].value
    assert [e.reason for e in audit_rows(store, "outcomes.read")][-1] == "data monitoring committee, month 5"


def test_coders_see_that_coding_is_closed_on_their_queue_and_coding_pages(trial, monkeypatch):
    _, store, accounts = trial
    rater = accounts["rater.one"]
    monkeypatch.setattr(identity, "current", lambda: Identity(rater, "test-session"))
    queue = AppTest.from_file(str(APP), default_timeout=30).run()  # a coder's first page is their queue
    assert not queue.warning
    lock(store, accounts["pi.one"], "ea_non_intrusiveness", "primary outcome coded")
    queue.run()
    assert queue.warning[0].value.startswith("Coding is closed: Maternal non-intrusiveness (EA Scales) locked on ")
    code = queue.dataframe[0].value["Recording"].iloc[0]
    at = AppTest.from_file(str(APP), default_timeout=30)
    at.query_params["recording"] = code
    at = at.run().switch_page("views/code.py").run()
    assert (
        at.warning[0].value.startswith("Coding is closed: Maternal non-intrusiveness (EA Scales) locked on ")
        and not at.radio
    )
