"""Ratings: drafts, submission, immutability (in code and in the database), reopening, imports."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from coding_app import blinded
from coding_app.assignments import assign
from coding_app.errors import ImportRefused, NotAllowed, NotFound
from coding_app.imports.ratings import import_ratings
from coding_app.ratings import (
    NOTES_LIMIT,
    IncompleteRating,
    NotesRefused,
    RatingChanged,
    RatingLocked,
    reopen,
    submitted_ratings,
)
from coding_app.store.models import Account, Assignment, Note, Rating, Recording, ScaleRow
from reliability import ScoreError
from tests.coding_app.helpers import add_account, add_recordings, audit_rows, row_counts, write_csv

EA = ("ea_sensitivity", "ea_non_intrusiveness")


@pytest.fixture
def rated(study):
    """Two videos and a session recording; rater.one has both videos on both EA scales."""
    codes = add_recordings(
        study.store,
        [
            dict(recording_id="V1", participant_id="P1", kind="video", timepoint="baseline"),
            dict(recording_id="V2", participant_id="P2", kind="video", timepoint="month 5"),
            dict(recording_id="A1", participant_id="P1", kind="audio", session="1", clinician="clinician A"),
        ],
    )
    accounts = {
        name: add_account(study.store, name, role)
        for name, role in (
            ("rater.one", "coder"),
            ("rater.two", "coder"),
            ("fidelity.one", "fidelity"),
            ("pi.one", "pi"),
        )
    }
    assign(study.store, ["rater.one"], kind="video", seed=1, actor="pi.one")
    study.codes, study.accounts = codes, accounts
    return study


def versions(store, code: str, coder: str = "rater.one", scale: str = "ea_sensitivity") -> list[tuple]:
    """(version, score, status, reopened_by, reopen_reason) of one rating, oldest first."""
    with store.read() as db:
        return [
            tuple(r)
            for r in db.execute(
                select(Rating.version, Rating.score, Rating.status, Rating.reopened_by, Rating.reopen_reason)
                .join(Assignment, Assignment.id == Rating.assignment_id)
                .join(Account, Account.id == Assignment.account_id)
                .join(Recording, Recording.id == Assignment.recording_id)
                .join(ScaleRow, ScaleRow.id == Rating.scale_id)
                .where(Recording.code == code, Account.name == coder, ScaleRow.key == scale)
                .order_by(Rating.version)
            )
        ]


def submit_both(study, code: str, scores=(6.0, 4.5)) -> None:
    rater = study.accounts["rater.one"]
    for scale, score in zip(EA, scores, strict=True):
        blinded.save_draft(study.store, rater, code, scale, score)
    assert blinded.submit(study.store, rater, code) is True


def ids_for(store, code: str, scale: str = "ea_sensitivity", coder: str = "rater.one") -> tuple[int, int]:
    with store.read() as db:
        assignment_id = db.scalar(
            select(Assignment.id)
            .join(Recording, Recording.id == Assignment.recording_id)
            .join(Account, Account.id == Assignment.account_id)
            .where(Recording.code == code, Account.name == coder)
        )
        return assignment_id, db.scalar(select(ScaleRow.id).where(ScaleRow.key == scale))


# ------------------------------------------------------------------------------ drafts, submit


def test_a_draft_is_created_then_updated_in_place_and_each_change_is_audited(rated):
    """One row, version 1, edited in place; an unchanged save writes no audit row."""
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]

    first = blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 5.5)
    second = blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 6)
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 6)  # no change

    assert (first.score, first.status, first.version) == (5.5, "draft", 1)
    assert (second.score, second.status, second.version) == (6.0, "draft", 1)
    assert versions(rated.store, code) == [(1, 6.0, "draft", None, None)]
    entries = audit_rows(rated.store, "rating.draft")
    assert [(e.old and e.old["score"], e.new["score"]) for e in entries] == [(None, 5.5), (5.5, 6.0)]
    assert all(e.actor == "rater.one" and e.new["recording"] == code for e in entries)


def test_submitting_needs_a_score_on_every_scale(rated):
    """With non-intrusiveness unscored (or blank) nothing is submitted; with both scored both are."""
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 5)
    with pytest.raises(IncompleteRating, match="missing: ea_non_intrusiveness"):
        blinded.submit(rated.store, rater, code)
    blinded.save_draft(rated.store, rater, code, "ea_non_intrusiveness", None)
    with pytest.raises(IncompleteRating, match="missing: ea_non_intrusiveness"):
        blinded.submit(rated.store, rater, code)
    assert versions(rated.store, code)[0][2] == "draft"

    blinded.save_draft(rated.store, rater, code, "ea_non_intrusiveness", 3.5)
    assert blinded.submit(rated.store, rater, code) is True

    for scale, score in zip(EA, (5.0, 3.5), strict=True):
        assert versions(rated.store, code, scale=scale) == [(1, score, "submitted", None, None)]
    assert sorted(e.new["scale"] for e in audit_rows(rated.store, "rating.submit")) == sorted(EA)


def test_submitting_twice_is_harmless(rated):
    """The second submit returns False and writes nothing, not even an audit row."""
    submit_both(rated, rated.codes["V1"])
    counts = row_counts(rated.store)
    assert blinded.submit(rated.store, rated.accounts["rater.one"], rated.codes["V1"]) is False
    assert row_counts(rated.store) == counts


def test_a_submitted_rating_cannot_be_changed_through_the_code(rated):
    """save_draft on a submitted rating raises RatingLocked and leaves it as it was."""
    code = rated.codes["V1"]
    submit_both(rated, code)
    counts = row_counts(rated.store)
    with pytest.raises(RatingLocked):
        blinded.save_draft(rated.store, rated.accounts["rater.one"], code, "ea_sensitivity", 2)
    assert versions(rated.store, code) == [(1, 6.0, "submitted", None, None)]
    assert row_counts(rated.store) == counts


def test_the_database_refuses_to_update_or_delete_a_submitted_rating(rated):
    """Raw SQL UPDATE of a submitted rating and any DELETE fail on the triggers; a draft's UPDATE is allowed."""
    submitted, draft = rated.codes["V1"], rated.codes["V2"]
    submit_both(rated, submitted)
    blinded.save_draft(rated.store, rated.accounts["rater.one"], draft, "ea_sensitivity", 4)

    with pytest.raises(DBAPIError, match="submitted ratings are immutable"), rated.store.write() as db:
        db.execute(text("UPDATE rating SET score = 2 WHERE status = 'submitted'"))
    for condition in ("status = 'submitted'", "status = 'draft'"):
        with pytest.raises(DBAPIError, match="ratings are never deleted"), rated.store.write() as db:
            db.execute(text(f"DELETE FROM rating WHERE {condition}"))
    with rated.store.write() as db:  # drafts are edited in place, so the guard lets them be
        db.execute(text("UPDATE rating SET notes = 'edited' WHERE status = 'draft'"))

    assert versions(rated.store, submitted) == [(1, 6.0, "submitted", None, None)]
    assert versions(rated.store, submitted, scale="ea_non_intrusiveness") == [(1, 4.5, "submitted", None, None)]
    assert versions(rated.store, draft) == [(1, 4.0, "draft", None, None)]


# ------------------------------------------------------------- two windows on one recording


def test_a_submit_locks_exactly_the_scores_confirmed_or_nothing(rated):
    """Window B confirmed 6 and 6; window A then changed sensitivity to 3: B's submit is refused, nothing is
    locked or audited, and the refusal says what is saved now. Submitting what is saved goes through."""
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    for scale in EA:
        blinded.save_draft(rated.store, rater, code, scale, 6, expected=None)  # window B
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 3, expected=6.0)  # window A
    counts = row_counts(rated.store)

    with pytest.raises(RatingChanged, match="changed in another window") as refused:
        blinded.submit(rated.store, rater, code, shown={"ea_sensitivity": 6.0, "ea_non_intrusiveness": 6.0})

    assert refused.value.saved == {"ea_sensitivity": 3.0, "ea_non_intrusiveness": 6.0}
    assert row_counts(rated.store) == counts and versions(rated.store, code)[0][2] == "draft"
    assert blinded.submit(rated.store, rater, code, shown={"ea_sensitivity": 3.0, "ea_non_intrusiveness": 6.0})
    assert versions(rated.store, code) == [(1, 3.0, "submitted", None, None)]


def test_a_draft_saved_from_a_window_that_missed_a_change_is_refused(rated):
    """Compare-and-set: a save that expected 6 where another window stored 3 changes nothing; expecting 3 works."""
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 6, expected=None)
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 3, expected=6.0)
    blinded.save_draft(rated.store, rater, code, "ea_non_intrusiveness", 4, expected=None)
    counts = row_counts(rated.store)

    with pytest.raises(RatingChanged) as refused:
        blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 5, expected=6.0)
    with pytest.raises(RatingChanged):  # a first score where another window already put one
        blinded.save_draft(rated.store, rater, code, "ea_non_intrusiveness", 5, expected=None)
    assert row_counts(rated.store) == counts
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 5, expected=3.0)

    assert refused.value.saved == {"ea_sensitivity": 3.0}
    assert versions(rated.store, code) == [(1, 5.0, "draft", None, None)]
    assert versions(rated.store, code, scale="ea_non_intrusiveness") == [(1, 4.0, "draft", None, None)]


# ----------------------------------------------------------------------------------- notes


def note_rows(store) -> list[tuple[int, str]]:
    with store.read() as db:
        return [tuple(r) for r in db.execute(select(Note.assignment_id, Note.text))]


def test_notes_are_kept_once_per_recording_and_shown_with_every_scale(rated):
    """One note row and one audit row per save, whatever the number of scales; the ratings table shows it per scale."""
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    assert blinded.save_notes(rated.store, rater, code, "warm, attuned at 01:12") == "warm, attuned at 01:12"
    blinded.save_notes(rated.store, rater, code, "warm, attuned at 01:12")  # unchanged: nothing written
    submit_both(rated, code)

    assert [text for _, text in note_rows(rated.store)] == ["warm, attuned at 01:12"]
    assert [e.new["text"] for e in audit_rows(rated.store, "notes.save")] == ["warm, attuned at 01:12"]
    with rated.store.read() as db:
        assert submitted_ratings(db)["notes"].tolist() == ["warm, attuned at 01:12"] * 2
    assert blinded.task(rated.store, rater, code).notes == "warm, attuned at 01:12"


def test_a_lone_surrogate_in_notes_is_kept_as_a_replacement_character(rated):
    """Half an emoji from a browser (\\ud800) no longer fails the save: it is stored as U+FFFD, the rest intact."""
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    stored = blinded.save_notes(rated.store, rater, code, "calm \ud800 then \U0001f600 smiles")
    assert stored == "calm \ufffd then \U0001f600 smiles"
    assert blinded.task(rated.store, rater, code).notes == stored


def test_notes_over_the_limit_are_refused_whole_saying_by_how_much(rated):
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    blinded.save_notes(rated.store, rater, code, "first thoughts")
    counts = row_counts(rated.store)
    with pytest.raises(NotesRefused, match=f"limited to {NOTES_LIMIT:,} characters; these have {NOTES_LIMIT + 5:,}"):
        blinded.save_notes(rated.store, rater, code, "x" * (NOTES_LIMIT + 5))
    assert row_counts(rated.store) == counts
    assert blinded.save_notes(rated.store, rater, code, "x" * NOTES_LIMIT) == "x" * NOTES_LIMIT


def test_notes_are_locked_with_the_submission_and_compare_and_set_like_scores(rated):
    rater, code = rated.accounts["rater.one"], rated.codes["V1"]
    blinded.save_notes(rated.store, rater, code, "from window A", expected="")
    with pytest.raises(RatingChanged) as refused:
        blinded.save_notes(rated.store, rater, code, "from window B", expected="")
    assert refused.value.saved == {"notes": "from window A"}
    submit_both(rated, code)
    with pytest.raises(RatingLocked):
        blinded.save_notes(rated.store, rater, code, "after submitting")
    assert [text for _, text in note_rows(rated.store)] == ["from window A"]
    reopen(rated.store, rated.accounts["pi.one"], code, "rater.one", "ea_sensitivity", "second look")
    assert blinded.save_notes(rated.store, rater, code, "after reopening") == "after reopening"


def test_imported_notes_over_the_limit_are_named_by_row(rated, tmp_path):
    sheet = write_csv(
        tmp_path / "long.csv",
        [
            {
                "recording_id": "V1",
                "coder": "rater.two",
                "scale": "ea_sensitivity",
                "score": "5",
                "notes": "y" * (NOTES_LIMIT + 1),
            },
        ],
        ("recording_id", "coder", "scale", "score", "notes"),
    )
    with pytest.raises(ImportRefused, match="row 2: field 'notes': notes are limited to"):
        import_ratings(rated.store, sheet, "pi.one")


# --------------------------------------------------------------------------------- the grid


def test_scores_off_the_grid_are_refused_by_the_code(rated, subtests):
    """5.25 is between half points; 7.5, 0 and -1 are outside 1-7; NaN is no score: ScoreError, nothing stored."""
    counts = row_counts(rated.store)
    for score in (5.25, 7.5, 0, -1, float("nan")):
        with subtests.test(score=score):
            with pytest.raises(ScoreError):
                blinded.save_draft(rated.store, rated.accounts["rater.one"], rated.codes["V1"], "ea_sensitivity", score)
            assert row_counts(rated.store) == counts


def test_scores_off_the_grid_are_refused_by_the_database(rated):
    """A raw INSERT of 5.25 on an EA scale fails on the foreign key to scale_level; 5.5 in the same INSERT works."""
    assignment_id, scale_id = ids_for(rated.store, rated.codes["V1"])
    insert = (
        "INSERT INTO rating (assignment_id, scale_id, version, score, notes, status, source, created_at, updated_at) "
        f"VALUES ({assignment_id}, {scale_id}, 1, {{score}}, '', 'draft', 'app', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )

    with pytest.raises(IntegrityError), rated.store.write() as db:
        db.execute(text(insert.format(score="5.25")))
    assert versions(rated.store, rated.codes["V1"]) == []
    with rated.store.write() as db:
        db.execute(text(insert.format(score="5.5")))
    assert versions(rated.store, rated.codes["V1"]) == [(1, 5.5, "draft", None, None)]


# ----------------------------------------------------------------------------------- reopen


def test_a_pi_reopens_a_submitted_rating_as_a_new_draft_version_with_who_and_why(rated):
    """Version 2 is a draft carrying the score, reopened_by and reason; version 1 stays; audited."""
    code = rated.codes["V1"]
    submit_both(rated, code)

    version = reopen(
        rated.store, rated.accounts["pi.one"], code, "rater.one", "ea_sensitivity", "  rated the wrong clip "
    )

    assert version == 2
    assert versions(rated.store, code) == [
        (1, 6.0, "submitted", None, None),
        (2, 6.0, "draft", "pi.one", "rated the wrong clip"),
    ]
    [entry] = audit_rows(rated.store, "rating.reopen")
    assert (entry.actor, entry.reason) == ("pi.one", "rated the wrong clip")
    assert (entry.old["version"], entry.old["status"], entry.new["version"], entry.new["status"]) == (
        1,
        "submitted",
        2,
        "draft",
    )

    rater = rated.accounts["rater.one"]
    task = blinded.task(rated.store, rater, code)
    assert task.submitted is False and task.ratings["ea_sensitivity"].version == 2
    blinded.save_draft(rated.store, rater, code, "ea_sensitivity", 5)
    assert blinded.submit(rated.store, rater, code) is True
    assert versions(rated.store, code) == [
        (1, 6.0, "submitted", None, None),
        (2, 5.0, "submitted", "pi.one", "rated the wrong clip"),
    ]
    with rated.store.read() as db:
        latest = submitted_ratings(db).set_index(["code", "scale"]).loc[(code, "ea_sensitivity")]
    assert (latest["score"], latest["version"]) == (5.0, 2)


def test_only_a_pi_may_reopen_and_only_a_submitted_rating_with_a_reason(rated):
    """A coder is refused by role (audited); a blank reason and a draft are refused; nothing else is written."""
    code = rated.codes["V1"]
    submit_both(rated, code)
    blinded.save_draft(rated.store, rated.accounts["rater.one"], rated.codes["V2"], "ea_sensitivity", 4)
    counts = row_counts(rated.store)

    with pytest.raises(NotAllowed):
        reopen(rated.store, rated.accounts["rater.one"], code, "rater.one", "ea_sensitivity", "I want to change it")
    with pytest.raises(ValueError, match="needs a reason"):
        reopen(rated.store, rated.accounts["pi.one"], code, "rater.one", "ea_sensitivity", "   ")
    with pytest.raises(NotFound):
        reopen(rated.store, rated.accounts["pi.one"], rated.codes["V2"], "rater.one", "ea_sensitivity", "draft")
    assert row_counts(rated.store) == counts | {"audit": counts["audit"] + 1}
    assert [(e.actor, e.entity_id) for e in audit_rows(rated.store, "refused.reopen")] == [("rater.one", code)]


# ---------------------------------------------------------------------------- import ratings


def ratings_file(study, rows: list[dict], name: str = "ratings.csv"):
    columns = ["recording_id", "coder", "scale", "score", "rated_at", "notes"]
    return write_csv(study.root / name, [{c: "" for c in columns} | r for r in rows], columns)


GOOD = dict(recording_id="V2", coder="rater.two", scale="ea_sensitivity", score="5.5")


BAD_RATINGS = {
    "unknown recording": (dict(recording_id="V99"), "field 'recording_id'"),
    "unknown coder": (dict(coder="rater.nine"), "field 'coder'"),
    "unknown scale": (dict(scale="ea_warmth"), "field 'scale'"),
    "scale of the other kind": (dict(scale="vipp_adherence", score="4"), "field 'scale'"),
    "off-grid": (dict(score="5.25"), "field 'score': score 5.25 is not on"),
    "text score": (dict(score="six"), "field 'score': score 'six' is not a number"),
    "blank score": (dict(score=""), "field 'score': score is missing"),
    "duplicate row": (dict(), "the same recording, coder and scale as row 2"),
    "PI as coder": (dict(coder="pi.one"), "field 'coder'"),
    "not a date": (dict(rated_at="next tuesday"), "field 'rated_at'"),
}


def test_a_bad_ratings_file_imports_nothing(rated, subtests):
    """Each bad row is named (spreadsheet numbering); the good row before it is not imported either."""
    counts = row_counts(rated.store)
    for case, (bad, field) in BAD_RATINGS.items():  # a refusal changes nothing, so each case starts alike
        with subtests.test(case):
            with pytest.raises(ImportRefused) as refused:
                import_ratings(rated.store, ratings_file(rated, [GOOD, GOOD | bad]), "pi.one")
            assert [p for p in refused.value.problems if not p.startswith("row 3: ")] == [], refused.value.problems
            assert any(field in p for p in refused.value.problems), refused.value.problems
            assert row_counts(rated.store) == counts


def test_import_keeps_to_the_roles_video_ratings_are_not_taken_from_a_fidelity_account(rated):
    """Video recordings go to coder accounts (as assign enforces): an EA rating by fidelity.one is refused."""
    counts = row_counts(rated.store)
    with pytest.raises(ImportRefused) as refused:
        import_ratings(rated.store, ratings_file(rated, [GOOD | dict(coder="fidelity.one")]), "pi.one")
    assert any(p.startswith("row 2: field 'coder'") for p in refused.value.problems), refused.value.problems
    assert row_counts(rated.store) == counts


def test_imported_ratings_are_submitted_versions_marked_as_imported_with_excel_dates(rated):
    """By manifest id or opaque code; Excel serial 45000.5 is 2023-03-15 12:00; assignments made as needed."""
    rows = [
        dict(
            recording_id="V1", coder="rater.two", scale="ea_sensitivity", score="6.5", rated_at="45000.5", notes="pilot"
        ),
        dict(recording_id="v 1", coder="rater.two", scale="ea_non_intrusiveness", score="5", rated_at="2023-03-16"),
        dict(recording_id=rated.codes["A1"], coder="fidelity.one", scale="vipp_adherence", score="4"),
    ]

    assert import_ratings(rated.store, ratings_file(rated, rows), "pi.one") == 3

    with rated.store.read() as db:
        table = submitted_ratings(db).set_index(["code", "coder", "scale"])
    v1 = table.loc[(rated.codes["V1"], "rater.two", "ea_sensitivity")]
    assert (v1["score"], v1["version"], v1["source"], v1["notes"]) == (6.5, 1, "import", "pilot")
    assert (v1["submitted_at"].year, v1["submitted_at"].month, v1["submitted_at"].day) == (2023, 3, 15)
    later = table.loc[(rated.codes["V1"], "rater.two", "ea_non_intrusiveness")]["submitted_at"]
    assert (later.year, later.month, later.day) == (2023, 3, 16)
    assert table.loc[(rated.codes["A1"], "fidelity.one", "vipp_adherence")]["score"] == 4
    assert len(audit_rows(rated.store, "rating.import")) == 3
    # The imported rating shows in the coder's own queue as done.
    queue = blinded.queue(rated.store, rated.accounts["rater.two"])
    assert [(q.code, q.status) for q in queue] == [(rated.codes["V1"], "submitted")]


def test_reimporting_the_same_ratings_changes_nothing(rated):
    """Idempotent: the second import adds 0 and writes no row at all."""
    path = ratings_file(rated, [GOOD, GOOD | dict(scale="ea_non_intrusiveness", score="4")])
    assert import_ratings(rated.store, path, "pi.one") == 2
    counts = row_counts(rated.store)
    assert import_ratings(rated.store, path, "pi.one") == 0
    assert row_counts(rated.store) == counts


def test_a_conflicting_reimport_is_refused(rated):
    """A different score for an existing rating is refused (a PI reopens instead); nothing changes."""
    import_ratings(rated.store, ratings_file(rated, [GOOD]), "pi.one")
    counts = row_counts(rated.store)
    changed = [GOOD | dict(scale="ea_non_intrusiveness", score="4"), GOOD | dict(score="3")]
    with pytest.raises(ImportRefused) as refused:
        import_ratings(rated.store, ratings_file(rated, changed, "changed.csv"), "pi.one")
    assert refused.value.problems == [
        "row 3: rater.two already has a different rating of this recording on ea_sensitivity; "
        "a PI reopens and changes it instead"
    ]
    assert row_counts(rated.store) == counts
    assert versions(rated.store, rated.codes["V2"], coder="rater.two") == [(1, 5.5, "submitted", None, None)]


def test_imported_excel_serial_dates_are_exact(rated):
    """45000.5 days after 1899-12-30 is noon on 2023-03-15; the stored stamp says so."""
    import_ratings(rated.store, ratings_file(rated, [GOOD | dict(rated_at="45000.5")]), "pi.one")
    with rated.store.read() as db:
        stamp = db.scalar(select(Rating.submitted_at))
    assert stamp.replace(tzinfo=None) == datetime(2023, 3, 15, 12, 0)
