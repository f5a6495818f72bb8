"""Consensus ratings: the PI's decision with a reason, versioned, audited, apart from coders' ratings."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from coding_app.consensus import consensus_ratings, record_consensus
from coding_app.errors import NotAllowed, NotFound
from coding_app.ratings import submitted_ratings
from tests.coding_app.helpers import add_account, add_recordings, audit_rows, row_counts


@pytest.fixture
def adjudicating(study):
    study.codes = add_recordings(
        study.store,
        [
            dict(recording_id="V1", participant_id="P1", kind="video", timepoint="baseline"),
            dict(recording_id="A1", participant_id="P1", kind="audio", session="1", clinician="clinician A"),
        ],
    )
    study.pi = add_account(study.store, "pi.one", "pi")
    study.coder = add_account(study.store, "rater.one", "coder")
    return study


def test_a_decision_is_kept_with_its_reason_and_a_revision_is_a_new_version(adjudicating):
    store, pi, code = adjudicating.store, adjudicating.pi, adjudicating.codes["V1"]
    with store.read() as db:
        coders_before = submitted_ratings(db)
    assert record_consensus(store, pi, code, "ea_sensitivity", 5.5, "  watched together  ") == 1
    assert record_consensus(store, pi, code, "ea_sensitivity", 6, "second look at the last two minutes") == 2
    latest = consensus_ratings(store, pi)
    assert latest[["code", "scale", "score", "version", "reason", "decided_by"]].values.tolist() == [
        [code, "ea_sensitivity", 6.0, 2, "second look at the last two minutes", "pi.one"]
    ]
    every = consensus_ratings(store, pi, every_version=True)
    assert every[["score", "version", "reason"]].values.tolist() == [
        [5.5, 1, "watched together"],
        [6.0, 2, "second look at the last two minutes"],
    ]
    entries = audit_rows(store, "consensus.record")
    assert [(e.actor, e.reason, e.new["score"], e.new["version"]) for e in entries] == [
        ("pi.one", "watched together", 5.5, 1),
        ("pi.one", "second look at the last two minutes", 6.0, 2),
    ]
    with store.read() as db:
        assert submitted_ratings(db).equals(coders_before)  # the coders' ratings are untouched


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("V1", "ea_sensitivity", 5.5, "   "), ValueError, "needs a reason"),
        (("V1", "ea_sensitivity", 5.25, "why"), ValueError, "5.25 is not on the scale"),
        (("V1", "ea_sensitivity", 8, "why"), ValueError, "score 8 is outside the scale 1-7"),
        (("V1", "vipp_adherence", 3, "why"), NotFound, "rated on vipp_adherence"),
        (("XXXXXXXX", "ea_sensitivity", 5, "why"), NotFound, "no recording XXXXXXXX"),
        (("V1", "no_scale", 5, "why"), NotFound, "rated on no_scale"),
    ],
)
def test_bad_decisions_are_refused_and_store_nothing(adjudicating, args, error, message):
    code, scale, score, reason = args
    before = row_counts(adjudicating.store)
    with pytest.raises(error, match=message):
        record_consensus(adjudicating.store, adjudicating.pi, adjudicating.codes.get(code, code), scale, score, reason)
    assert row_counts(adjudicating.store) == before


def test_only_a_pi_decides_or_reads_and_the_database_refuses_edits(adjudicating):
    store, code = adjudicating.store, adjudicating.codes["V1"]
    with pytest.raises(NotAllowed):
        record_consensus(store, adjudicating.coder, code, "ea_sensitivity", 5, "I think so")
    with pytest.raises(NotAllowed):
        consensus_ratings(store, adjudicating.coder)
    record_consensus(store, adjudicating.pi, code, "ea_sensitivity", 5, "agreed")
    with pytest.raises(DBAPIError, match="never changed"), store.write() as db:
        db.execute(text("UPDATE consensus_rating SET score = 7"))
    with pytest.raises(DBAPIError, match="never deleted"), store.write() as db:
        db.execute(text("DELETE FROM consensus_rating"))
    assert consensus_ratings(store, adjudicating.pi)["score"].tolist() == [5.0]
