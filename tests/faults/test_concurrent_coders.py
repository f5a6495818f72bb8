"""Five coders, each its own process, submitting at once: nothing lost, nothing twice, no error shown.

Runs on SQLite and on PostgreSQL (the ``store`` fixture). The verification is itself checked:
a submission a coder was told about that the database lacks is counted as lost, and an extra
submitted version is counted as a duplicate.
"""

from __future__ import annotations

import queue
import threading

import pytest
from sqlalchemy import select

from coding_app.store.models import Rating
from tests.faults.load import CoderReport, Sent, code_queue, make_study, run_load, verify

CODERS, RECORDINGS = 5, 20


@pytest.fixture
def coded(store) -> list[CoderReport]:
    """One coder's two recordings coded in this process: a known-good history for the checks' controls."""
    (name,) = make_study(store, 1, 2)
    reports: queue.Queue = queue.Queue()
    code_queue(store.url, name, 1, threading.Barrier(1), reports)
    return [reports.get_nowait()]


def test_concurrent_coders_lose_nothing_and_duplicate_nothing(store):
    names = make_study(store, CODERS, RECORDINGS)
    loaded = run_load(store.url, names, seed=3)
    outcome = verify(store, loaded)
    assert outcome.errors == []
    assert outcome.attempted == outcome.stored == CODERS * RECORDINGS
    assert (outcome.lost, outcome.duplicated) == (0, 0)
    assert all(sent.acknowledged for report in loaded for sent in report.sent)


def test_the_check_counts_a_submission_the_database_lacks_as_lost(store, coded):
    assert verify(store, coded).stored == 2
    phantom = Sent(coded[0].coder, "NOSUCH99", {"ea_sensitivity": 5.0}, "", acknowledged=True)
    outcome = verify(store, [*coded, CoderReport("phantom", attempted=1, sent=[phantom])])
    assert (outcome.lost, outcome.stored, outcome.attempted) == (1, 2, 3)


def test_the_check_counts_a_second_submitted_version_as_a_duplicate(store, coded):
    assert verify(store, coded).duplicated == 0
    with store.write() as db:
        first = db.scalars(select(Rating).order_by(Rating.id)).first()
        db.add(
            Rating(
                assignment_id=first.assignment_id,
                scale_id=first.scale_id,
                version=2,
                score=first.score,
                notes=first.notes,
                status="submitted",
                source="app",
                submitted_at=first.submitted_at,
            )
        )
    outcome = verify(store, coded)
    assert outcome.duplicated == 1
    assert outcome.lost == 1  # that coder's rating is no longer held exactly once, as entered
