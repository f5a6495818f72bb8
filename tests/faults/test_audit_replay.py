"""Replaying the audit log reproduces the rating table exactly, on SQLite and PostgreSQL.

The history is the one a study lives through: concurrent coders (the load run, two processes),
drafts edited score by score and in the notes, a draft left unscored, submissions, a PI
reopening a submitted rating and its coder changing and resubmitting it, and ratings imported
from a spreadsheet. Dropping any one rating entry from the log must be caught.
"""

from __future__ import annotations

import pytest

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.audit_replay import (
    NOTE_ACTION,
    RATING_ACTIONS,
    ReplayError,
    check,
    differences,
    note_table,
    rating_table,
    replay,
    replay_notes,
)
from coding_app.errors import NotAllowed
from coding_app.imports.ratings import import_ratings
from coding_app.ratings import reopen
from tests.coding_app.helpers import add_account, audit_rows, write_csv
from tests.faults.load import make_study, run_load

SENSITIVITY, NON_INTRUSIVENESS = "ea_sensitivity", "ea_non_intrusiveness"


@pytest.fixture
def lived(store, tmp_path):
    """A study with a mixed history on every kind of rating change; returns the PI's account."""
    hand, *load = make_study(store, coders=3, recordings=4)
    reports = run_load(store.url, load, seed=5)
    assert not [e for r in reports for e in r.errors]
    add_account(store, "pi.one", "pi")
    add_account(store, "paper.coder", "coder")
    with store.read() as db:
        coder, pi = account_named(db, hand), account_named(db, "pi.one")
    first, second, third, fourth = (item.code for item in blinded.queue(store, coder))

    blinded.save_draft(store, coder, first, SENSITIVITY, 5.0)
    blinded.save_draft(store, coder, first, SENSITIVITY, 5.5)  # an edit
    blinded.save_notes(store, coder, first, "mother follows the child's lead at 01:12")
    blinded.save_draft(store, coder, first, NON_INTRUSIVENESS, 4.0)
    blinded.submit(store, coder, first)
    blinded.save_draft(store, coder, second, SENSITIVITY, None)  # unscored draft
    blinded.save_notes(store, coder, second, "audio drops out at 03:40")
    for scale, score in ((SENSITIVITY, 3.0), (NON_INTRUSIVENESS, 6.5)):
        blinded.save_draft(store, coder, third, scale, score)
    blinded.submit(store, coder, third)
    reopen(store, pi, third, hand, SENSITIVITY, "scored against the wrong anchor")
    blinded.save_draft(store, coder, third, SENSITIVITY, 3.5)
    blinded.save_notes(store, coder, third, "rescored")
    blinded.submit(store, coder, third)
    reopen(store, pi, first, hand, NON_INTRUSIVENESS, "second look requested")  # left reopened
    blinded.save_draft(store, coder, fourth, NON_INTRUSIVENESS, 2.5)
    sheet = write_csv(
        tmp_path / "paper.csv",
        [
            {
                "recording_id": code,
                "coder": "paper.coder",
                "scale": scale,
                "score": score,
                "rated_at": "2025-01-14T10:00:00",
            }
            for code, scale, score in (
                (first, SENSITIVITY, "4.5"),
                (first, NON_INTRUSIVENESS, "5"),
                (second, SENSITIVITY, "6"),
            )
        ],
        ("recording_id", "coder", "scale", "score", "rated_at"),
    )
    assert import_ratings(store, sheet, "pi.one") == 3
    return pi


def _caught(log: list, table: dict) -> list[str]:
    """What the replay of ``log`` reports against ``table``: differences, or the entry it cannot apply."""
    try:
        return differences(replay(log), table)
    except ReplayError as error:
        return [str(error)]


def test_replaying_the_log_gives_the_rating_table_exactly_and_a_gap_is_caught(store, lived):
    table = rating_table(store, lived)
    statuses = {(key[3], values.status) for key, values in table.items()}
    assert {(1, "draft"), (1, "submitted"), (2, "submitted"), (2, "draft")} <= statuses  # the history has it all
    assert len(table) == 2 * 4 * 2 + 8 + 3  # load run (coders x recordings x scales), by hand, imported
    log = audit_rows(store)
    assert replay(log) == table
    assert check(store, lived) == []
    # Negative controls, one history for all (the load run is the slow part): drop the last
    # entry of each rating action in turn, then change one value.
    for action in RATING_ACTIONS:
        dropped = max(i for i, entry in enumerate(log) if entry.action == action)
        assert _caught(log[:dropped] + log[dropped + 1 :], table), f"dropping the last {action} went unnoticed"
    last = next(entry for entry in reversed(log) if entry.action == "rating.draft")
    last.new = {**last.new, "notes": last.new["notes"] + " (edited)"}
    assert len(_caught(log, table)) == 1


def test_replaying_the_log_gives_every_coders_notes_and_a_gap_is_caught(store, lived):
    notes, log = note_table(store, lived), audit_rows(store)
    assert set(notes.values()) >= {"mother follows the child's lead at 01:12", "audio drops out at 03:40", "rescored"}
    assert replay_notes(log) == notes
    dropped = max(i for i, entry in enumerate(log) if entry.action == NOTE_ACTION)
    assert len(differences(replay_notes(log[:dropped] + log[dropped + 1 :]), notes)) == 1


def test_only_the_pi_replays_the_study_log(store):
    add_account(store, "a.coder", "coder")
    with store.read() as db:
        coder = account_named(db, "a.coder")
    with pytest.raises(NotAllowed):
        check(store, coder)
