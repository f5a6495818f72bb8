"""Certification: master codes, agreement with them, granting once, the gate in assign, and the rule."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from coding_app import blinded
from coding_app.assignments import AssignmentError, assign
from coding_app.certification_report import certification_history, certification_status
from coding_app.codebook import DEFAULT_CODEBOOK, CodebookError, load_codebook
from coding_app.coder_agreement import double_coded
from coding_app.errors import ImportRefused, NotAllowed
from coding_app.imports.master_codes import import_master_codes
from coding_app.imports.ratings import import_ratings
from coding_app.sampling import draw_members, draw_reliability
from coding_app.store.models import Recording
from coding_app.study_setup import initialise
from tests.coding_app.helpers import add_account, add_recordings, audit_rows, row_counts, write_csv

EA = ("ea_sensitivity", "ea_non_intrusiveness")
MASTER = [6.5, 3.0, 5.5, 4.0, 7.0, 2.5, 5.0, 6.0, 3.5, 4.5]
GOOD = [6.5, 3.0, 5.5, 4.0, 6.5, 2.5, 5.0, 6.0, 3.5, 5.0]  # two half-point slips
POOR = [4.0, 5.5, 3.0, 6.0, 4.5, 5.0, 2.5, 3.5, 6.5, 7.0]


@pytest.fixture
def training(study, tmp_path):
    """Ten pilot videos with master codes on both EA scales, two live videos, two raters and a PI."""
    study.codes = add_recordings(
        study.store,
        [
            *(
                dict(recording_id=f"T{n}", participant_id=f"PILOT{n}", kind="video", timepoint="baseline")
                for n in range(10)
            ),
            *(
                dict(recording_id=r, participant_id=f"P{r}", kind="video", timepoint="baseline", arm="usual care")
                for r in ("V1", "V2")
            ),
        ],
    )
    study.accounts = {
        name: add_account(study.store, name, role)
        for name, role in (("good.rater", "coder"), ("poor.rater", "coder"), ("pi.one", "pi"))
    }
    rows = [
        {"recording_id": f"T{n}", "scale": scale, "score": f"{score:g}"}
        for n, score in enumerate(MASTER)
        for scale in EA
    ]
    assert (
        import_master_codes(
            study.store,
            study.accounts["pi.one"],
            write_csv(tmp_path / "master.csv", rows, ("recording_id", "scale", "score")),
        )
        == 20
    )
    assign(study.store, ["good.rater", "poor.rater"], kind="video", recordings="training", seed=3, actor="pi.one")
    return study


def code_training(study, coder: str, scores: list[float], count: int | None = None) -> None:
    """Code training recordings T0, T1, ... up to ``count`` through the coders' door (those already
    submitted are left as they are)."""
    account = study.accounts[coder]
    queue = {item.code: item.status for item in blinded.queue(study.store, account)}
    for n, score in list(enumerate(scores))[:count]:
        code = study.codes[f"T{n}"]
        if queue[code] == "submitted":
            continue
        for scale in EA:
            blinded.save_draft(study.store, account, code, scale, score)
        assert blinded.submit(study.store, account, code)


def status_of(study, coder: str, scale: str = "ea_sensitivity"):
    table = certification_status(study.store, study.accounts["pi.one"]).table
    return table[(table["coder"] == coder) & (table["scale"] == scale)].iloc[0]


def test_live_recordings_wait_for_certification_and_training_ones_do_not(training):
    with pytest.raises(
        AssignmentError,
        match=r"good.rater is not yet certified on ea_sensitivity \(0 training recordings; "
        r"needs kappa quadratic >= 0.8 over at least 8 recordings\)",
    ):
        assign(training.store, ["good.rater"], kind="video", recordings="all", actor="pi.one")
    code_training(training, "good.rater", GOOD, count=7)
    with pytest.raises(AssignmentError, match=r"over 7 training recordings"):
        assign(training.store, ["good.rater"], kind="video", recordings="all", actor="pi.one")
    code_training(training, "good.rater", GOOD, count=8)
    summary = assign(training.store, ["good.rater"], kind="video", recordings="all", actor="pi.one")
    assert summary.added == {"good.rater": 2}  # the two live videos; the training ones were there already


def test_certification_is_granted_once_at_the_rule_with_the_figures_of_that_moment(training):
    code_training(training, "good.rater", GOOD, count=8)
    expected = cohen_kappa_score(
        np.array(GOOD[:8]) * 2, np.array(MASTER[:8]) * 2, weights="quadratic", labels=np.arange(2, 15)
    )
    grants = audit_rows(training.store, "certification.grant")
    assert [(g.entity_id, g.new["scale"], g.new["n"]) for g in grants] == [("good.rater", s, 8) for s in EA]
    assert grants[0].new["value"] == pytest.approx(expected)
    row = status_of(training, "good.rater")
    assert row["status"] == "certified" and row["training recordings coded"] == 8
    assert row["kappa_quadratic"] == pytest.approx(expected)
    # A later slip changes the running figure, not the certification that was granted.
    account = training.accounts["good.rater"]
    code = training.codes["T8"]
    for scale in EA:
        blinded.save_draft(training.store, account, code, scale, 1.0)
    blinded.submit(training.store, account, code)
    row = status_of(training, "good.rater")
    assert row["status"] == "certified" and row["training recordings coded"] == 9
    assert row["kappa_quadratic"] < expected
    assert len(audit_rows(training.store, "certification.grant")) == 2


def test_a_poor_coder_stays_in_training_however_many_they_code(training):
    code_training(training, "poor.rater", POOR)
    row = status_of(training, "poor.rater")
    assert row["status"] == "in training" and row["training recordings coded"] == 10 and row["kappa_quadratic"] < 0.8
    with pytest.raises(AssignmentError, match="poor.rater is not yet certified"):
        assign(training.store, ["poor.rater"], kind="video", recordings="all", actor="pi.one")


def test_history_is_the_running_statistic_after_each_training_recording(training):
    code_training(training, "good.rater", GOOD)
    history = certification_history(training.store, training.accounts["pi.one"], "good.rater", "ea_sensitivity")
    assert list(history["recordings"]) == list(range(1, 11))
    for k in (4, 8, 10):
        expected = cohen_kappa_score(
            np.array(GOOD[:k]) * 2, np.array(MASTER[:k]) * 2, weights="quadratic", labels=np.arange(2, 15)
        )
        assert history["value"].iloc[k - 1] == pytest.approx(expected)


def test_training_recordings_stay_out_of_agreement_and_of_sampling_frames(training):
    code_training(training, "good.rater", GOOD)
    code_training(training, "poor.rater", POOR)
    ratings, _ = double_coded(training.store)
    assert ratings.empty  # only training recordings are double-coded so far
    summary = draw_reliability(training.store, n=2, seed=1, actor="pi.one")
    assert summary.frame_size == 2
    with training.store.read() as db:
        drawn = set(db.scalars(select(Recording.code).where(Recording.id.in_(draw_members(db, summary.draw_id)))))
    assert drawn == {training.codes["V1"], training.codes["V2"]}


def test_master_codes_are_all_or_nothing_and_never_change(training, tmp_path):
    pi = training.accounts["pi.one"]
    (imported,) = audit_rows(training.store, "master_code.import")
    assert len(imported.new["codes"]) == 20  # every code, so that the log alone tells what the master said
    assert {"recording": training.codes["T0"], "scale": "ea_sensitivity", "score": 6.5} in imported.new["codes"]
    columns = ("recording_id", "scale", "score")
    before = row_counts(training.store)
    bad = [
        {"recording_id": "V1", "scale": "ea_sensitivity", "score": "5"},
        {"recording_id": "T0", "scale": "ea_sensitivity", "score": "4"},
        {"recording_id": "nope", "scale": "ea_sensitivity", "score": "4"},
        {"recording_id": "V2", "scale": "vipp_adherence", "score": "4"},
        {"recording_id": "V2", "scale": "ea_sensitivity", "score": "5.25"},
        {"recording_id": "V1", "scale": "ea_sensitivity", "score": "5"},
    ]
    with pytest.raises(ImportRefused) as refused:
        import_master_codes(training.store, pi, write_csv(tmp_path / "bad.csv", bad, columns))
    assert refused.value.problems == [
        "row 3: this recording already has the master code 6.5 on ea_sensitivity; master codes are never changed",
        "row 4: field 'recording_id': 'nope' is not a recording in the study",
        "row 5: field 'scale': vipp_adherence rates audio recordings, not video",
        "row 6: field 'score': score 5.25 is not on the scale 1-7 in steps of 0.5",
        "row 7: the same recording and scale as row 2",
    ]
    assert row_counts(training.store) == before
    again = [{"recording_id": "T0", "scale": "ea_sensitivity", "score": "6.5"}]
    assert import_master_codes(training.store, pi, write_csv(tmp_path / "same.csv", again, columns)) == 0
    with pytest.raises(NotAllowed):
        import_master_codes(
            training.store, training.accounts["good.rater"], write_csv(tmp_path / "same.csv", again, columns)
        )
    with pytest.raises(DBAPIError, match="never changed"), training.store.write() as db:
        db.execute(text("UPDATE master_code SET score = 1"))
    with pytest.raises(DBAPIError, match="never deleted"), training.store.write() as db:
        db.execute(text("DELETE FROM master_code"))


def test_the_rule_comes_from_the_codebook_and_bad_rules_are_refused(study, tmp_path):
    default = load_codebook().certification
    assert (default.statistic, default.threshold, default.min_recordings) == ("kappa_quadratic", 0.8, 8)
    path = tmp_path / "codebook.toml"
    path.write_text(
        DEFAULT_CODEBOOK.read_text()
        + '\n[certification]\nstatistic = "ac2_quadratic"\nthreshold = 0.7\nmin_recordings = 5\n'
    )
    initialise(study.store, load_codebook(path), "test")
    pi = add_account(study.store, "pi.one", "pi")
    assert certification_status(study.store, pi).rule.describe() == "ac2 quadratic >= 0.7 over at least 5 recordings"
    for section, message in (
        ('statistic = "kappa_cubic"', "statistic must be one of"),
        ("threshold = 1.5", "threshold must be a number in (0, 1]"),
        ("min_recordings = 1", "min_recordings must be a whole number of at least 2"),
        ("minimum = 3", "unknown field minimum"),
    ):
        path.write_text(DEFAULT_CODEBOOK.read_text() + f"\n[certification]\n{section}\n")
        with pytest.raises(CodebookError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
            load_codebook(path)


def test_the_status_only_reads_a_coder_who_meets_a_changed_rule_is_certified_when_next_assigned(training, tmp_path):
    code_training(training, "good.rater", GOOD, count=7)
    path = tmp_path / "codebook.toml"
    path.write_text(DEFAULT_CODEBOOK.read_text() + "\n[certification]\nmin_recordings = 5\n")
    initialise(training.store, load_codebook(path), "test")
    before = row_counts(training.store)

    row = status_of(training, "good.rater")

    assert row_counts(training.store) == before and audit_rows(training.store, "certification.grant") == []
    assert row["status"] == "meets the rule: certified at the next assignment"
    assert row["training recordings coded"] == 7
    assign(training.store, ["good.rater"], kind="video", recordings="all", actor="pi.one")
    assert [g.new["n"] for g in audit_rows(training.store, "certification.grant")] == [7, 7]
    assert status_of(training, "good.rater")["status"] == "certified"


def test_imported_training_ratings_certify_their_coder_at_once(training, tmp_path):
    rows = [
        {"recording_id": f"T{n}", "coder": "good.rater", "scale": scale, "score": f"{score:g}"}
        for n, score in enumerate(GOOD[:8])
        for scale in EA
    ]

    import_ratings(
        training.store, write_csv(tmp_path / "pilot.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one"
    )

    grants = audit_rows(training.store, "certification.grant")
    assert [(g.entity_id, g.new["scale"], g.new["n"]) for g in grants] == [("good.rater", s, 8) for s in EA]


def test_master_codes_set_after_the_coding_certify_the_coders_who_meet_the_rule(study, tmp_path):
    codes = add_recordings(
        study.store,
        [dict(recording_id=f"T{n}", participant_id=f"PILOT{n}", kind="video", timepoint="baseline") for n in range(8)],
    )
    rater, pi = add_account(study.store, "good.rater", "coder"), add_account(study.store, "pi.one", "pi")
    assign(study.store, ["good.rater"], kind="video", recordings="all", actor="pi.one")
    for n, score in enumerate(GOOD[:8]):
        for scale in EA:
            blinded.save_draft(study.store, rater, codes[f"T{n}"], scale, score)
        assert blinded.submit(study.store, rater, codes[f"T{n}"])
    rows = [
        {"recording_id": f"T{n}", "scale": s, "score": f"{score:g}"} for n, score in enumerate(MASTER[:8]) for s in EA
    ]

    import_master_codes(study.store, pi, write_csv(tmp_path / "master.csv", rows, ("recording_id", "scale", "score")))

    grants = audit_rows(study.store, "certification.grant")
    assert [(g.entity_id, g.new["scale"], g.new["n"]) for g in grants] == [("good.rater", s, 8) for s in EA]
