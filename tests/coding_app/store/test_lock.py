"""The database lock: every way of changing scores is refused while a scale is closed; unlocking needs a reason."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coding_app import blinded
from coding_app.consensus import record_consensus
from coding_app.errors import NotAllowed
from coding_app.imports.ratings import import_ratings
from coding_app.lock import CodingClosed, lock, lock_report, unlock
from coding_app.ratings import reopen
from tests.coding_app.helpers import audit_rows, row_counts, write_csv
from tests.coding_app.store.test_ratings import EA, rated, submit_both  # noqa: F401 - the fixture

RECORDINGS = ("V1", "V2")


@pytest.fixture
def coding(rated):  # noqa: F811 - rated is the fixture imported above
    """rated's study with V1 submitted by rater.one (both EA scales) and V2 drafted."""
    submit_both(rated, rated.codes["V1"])
    blinded.save_draft(rated.store, rated.accounts["rater.one"], rated.codes["V2"], "ea_sensitivity", 5)
    return rated


def attempts(study):
    """Every way scores change, each as the one who may do it."""
    store, rater, pi = study.store, study.accounts["rater.one"], study.accounts["pi.one"]
    v1, v2 = study.codes["V1"], study.codes["V2"]
    ratings = write_csv(
        study.root / "late.csv",
        [{"recording_id": "V2", "coder": "rater.two", "scale": "ea_sensitivity", "score": "4"}],
        ("recording_id", "coder", "scale", "score"),
    )
    return {
        "draft": lambda: blinded.save_draft(store, rater, v2, "ea_sensitivity", 6),
        "notes": lambda: blinded.save_notes(store, rater, v2, "seen again"),
        "submit": lambda: (
            blinded.save_draft(store, rater, v2, "ea_non_intrusiveness", 5),
            blinded.submit(store, rater, v2),
        ),
        "reopen": lambda: reopen(store, pi, v1, "rater.one", "ea_sensitivity", "coder asked"),
        "consensus": lambda: record_consensus(store, pi, v1, "ea_sensitivity", 5, "watched together"),
        "import": lambda: import_ratings(store, ratings, "pi.one"),
    }


@pytest.mark.parametrize("scope", [None, "ea_sensitivity"])
@pytest.mark.parametrize("attempt", ["draft", "notes", "submit", "reopen", "consensus", "import"])
def test_every_change_to_scores_is_refused_while_coding_is_closed_and_nothing_is_stored(coding, scope, attempt):
    store, pi = coding.store, coding.accounts["pi.one"]
    if attempt == "submit":  # the other scale is scored first, before the lock, so only the lock stands in the way
        blinded.save_draft(store, coding.accounts["rater.one"], coding.codes["V2"], "ea_non_intrusiveness", 5)
    lock(store, pi, scope)
    before = row_counts(store)
    with pytest.raises(CodingClosed, match="coding is closed") as refused:
        attempts(coding)[attempt]()
    assert ("the whole study" if scope is None else "ea_sensitivity") + " locked on" in str(refused.value)
    assert row_counts(store) == before


def test_a_scale_lock_leaves_the_other_scales_open_and_unlocking_needs_a_reason(coding):
    store, pi, rater, v2 = coding.store, coding.accounts["pi.one"], coding.accounts["rater.one"], coding.codes["V2"]
    lock(store, pi, "ea_non_intrusiveness", "primary outcome coded")
    blinded.save_draft(store, rater, v2, "ea_sensitivity", 6)  # its scale is open
    with pytest.raises(CodingClosed):
        blinded.save_draft(store, rater, v2, "ea_non_intrusiveness", 6)
    assert blinded.coding_closed(store, rater, v2).startswith(
        "Coding is closed: Maternal non-intrusiveness (EA Scales) locked on"
    )
    for reason in ("", "   "):
        with pytest.raises(ValueError, match="needs a reason"):
            unlock(store, pi, "ea_non_intrusiveness", reason)
    with pytest.raises(ValueError, match="the whole study is not locked"):
        unlock(store, pi, None, "wrong scope")
    unlock(store, pi, "ea_non_intrusiveness", "a late video turned up")
    assert blinded.coding_closed(store, rater, v2) is None
    blinded.save_draft(store, rater, v2, "ea_non_intrusiveness", 6)
    assert blinded.submit(store, rater, v2) is True
    entries = audit_rows(store, "coding.lock") + audit_rows(store, "coding.unlock")
    assert [(e.action, e.actor, e.new["scope"], e.reason) for e in entries] == [
        ("coding.lock", "pi.one", "scale ea_non_intrusiveness", "primary outcome coded"),
        ("coding.unlock", "pi.one", "scale ea_non_intrusiveness", "a late video turned up"),
    ]
    report = lock_report(store, pi)
    assert report[["action", "scope", "by", "reason", "in_force"]].values.tolist() == [
        ["lock", "ea_non_intrusiveness", "pi.one", "primary outcome coded", False],
        ["unlock", "ea_non_intrusiveness", "pi.one", "a late video turned up", False],
    ]


def test_the_study_lock_covers_every_scale_and_is_undone_only_as_a_whole(coding):
    store, pi = coding.store, coding.accounts["pi.one"]
    lock(store, pi)
    with pytest.raises(ValueError, match="already closed"):
        lock(store, pi, "ea_sensitivity")
    with pytest.raises(
        ValueError, match="ea_sensitivity is not locked; the whole study locked on .*unlock the whole study"
    ):
        unlock(store, pi, "ea_sensitivity", "only this one")
    assert lock_report(store, pi)[["scope", "in_force"]].values.tolist() == [["the whole study", True]]
    assert blinded.coding_closed(store, coding.accounts["fidelity.one"]) is None  # nothing in their queue yet


def test_only_a_pi_locks_or_unlocks_each_refusal_audited_and_the_history_cannot_be_edited(coding):
    store, rater, pi = coding.store, coding.accounts["rater.one"], coding.accounts["pi.one"]
    for attempt in (
        lambda: lock(store, rater),
        lambda: unlock(store, rater, None, "x"),
        lambda: lock_report(store, rater),
    ):
        with pytest.raises(NotAllowed):
            attempt()
    assert [e.actor for e in audit_rows(store, "refused.lock")] == ["rater.one"] * 3
    lock(store, pi)
    with pytest.raises(DBAPIError, match="never changed"), store.write() as db:
        db.execute(text("UPDATE coding_lock SET action = 'unlock', reason = 'quietly'"))
    with pytest.raises(DBAPIError, match="never deleted"), store.write() as db:
        db.execute(text("DELETE FROM coding_lock"))
    assert lock_report(store, pi)["in_force"].tolist() == [True]


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # SQLite serialises every write transaction whole
def test_on_postgresql_a_lock_waits_for_a_change_already_checked_and_is_seen_by_the_next(coding):
    """READ COMMITTED would let a draft checked just before a lock commit just after it; the check's table lock
    orders them."""

    store, pi, rater, v2 = coding.store, coding.accounts["pi.one"], coding.accounts["rater.one"], coding.codes["V2"]
    checked, release = threading.Event(), threading.Event()
    real = blinded._draft  # a draft save's one query, which asks whether the scale is closed

    def held(*args):
        found = real(*args)
        checked.set()
        release.wait(30)
        return found

    locking = threading.Thread(target=lambda: (checked.wait(30), lock(store, pi)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(blinded, "_draft", held)
        drafting = threading.Thread(target=lambda: blinded.save_draft(store, rater, v2, "ea_sensitivity", 6.5))
        drafting.start()
        locking.start()
        waiting = locked = 0
        while not (waiting or locked):  # the lock either waits on the open draft's transaction or goes through
            with store.read() as db:
                waiting = db.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar()
                locked = db.execute(text("SELECT count(*) FROM coding_lock")).scalar()
        assert (waiting, locked) == (1, 0)
        release.set()
        drafting.join(30)
        locking.join(30)
    assert lock_report(store, pi)["in_force"].tolist() == [True]  # the draft went in first, then the lock
    with pytest.raises(CodingClosed):
        blinded.save_draft(store, rater, v2, "ea_sensitivity", 7)
