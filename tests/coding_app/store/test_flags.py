"""Flags and exclusions, on SQLite and PostgreSQL: a coder's "cannot code this recording", the PI's decision
(back to the queue, or out of the study), what every coder is served after it, and what still counts."""

from __future__ import annotations

import re
import threading
import time

import pytest
from sqlalchemy import select, text

from coding_app import blinded, flags
from coding_app.analysis import analysis_dataset
from coding_app.assignments import assign
from coding_app.coder_agreement import double_coded
from coding_app.consensus import consensus_ratings, record_consensus
from coding_app.errors import NotAllowed, NotFound
from coding_app.exclusions import excluded, not_counted
from coding_app.fidelity import fidelity_scores
from coding_app.lock import CodingClosed, lock, unlock
from coding_app.progress import coder_progress
from coding_app.ratings import submitted_ratings
from coding_app.sampling import draw_fidelity
from coding_app.store.models import Exclusion, Flag, Recording
from tests.coding_app.helpers import add_account, add_recordings, audit_rows, row_counts

SCALES = ("ea_sensitivity", "ea_non_intrusiveness")


@pytest.fixture
def flagging(study):
    """Four videos in the queues of rater.one and rater.two (double coding), a PI."""
    study.codes = add_recordings(
        study.store,
        [
            dict(recording_id=f"V{n}", participant_id=f"P{n}", kind="video", arm="VIPP-PMH", timepoint="baseline")
            for n in range(1, 5)
        ],
    )
    study.accounts = {
        name: add_account(study.store, name, role)
        for name, role in (("rater.one", "coder"), ("rater.two", "coder"), ("pi.one", "pi"))
    }
    assign(study.store, ["rater.one", "rater.two"], kind="video", seed=4, actor="pi.one")
    return study


def order(study, name: str) -> list[str]:
    return [item.code for item in blinded.queue(study.store, study.accounts[name])]


def code_and_submit(study, name: str, code: str, score: float) -> None:
    for scale in SCALES:
        blinded.save_draft(study.store, study.accounts[name], code, scale, score)
    assert blinded.submit(study.store, study.accounts[name], code)


def write_exclusions(study, exclusions: dict[str, tuple[str, bool]]) -> None:
    """Exclusion rows as another module writes them (a withdrawal, say): {code: (cause, ratings_count)}."""
    with study.store.write() as db:
        ids = dict(db.execute(select(Recording.code, Recording.id)).all())
        db.add_all(
            [
                Exclusion(recording_id=ids[code], cause=cause, ratings_count=count, by="pi.one")
                for code, (cause, count) in exclusions.items()
            ]
        )


def refused_like_unassigned(study, name: str, code: str) -> None:
    """Every door function asked for this code answers exactly as for a recording never assigned."""
    store, account = study.store, study.accounts[name]
    for call in (
        lambda: blinded.task(store, account, code),
        lambda: blinded.media(store, account, code),
        lambda: blinded.playback_facts(store, account, code, study.media),
        lambda: blinded.save_draft(store, account, code, "ea_sensitivity", 5),
        lambda: blinded.save_notes(store, account, code, "x"),
        lambda: blinded.submit(store, account, code),
        lambda: blinded.coding_closed(store, account, code),
        lambda: blinded.flag(store, account, code, "no_sound"),
    ):
        with pytest.raises(NotFound) as refusal:
            call()
        assert str(refusal.value) == blinded.NOT_ASSIGNED


def test_a_flag_takes_the_recording_out_of_its_coders_queue_and_a_clear_puts_it_back_at_its_place(flagging):
    """Flagged: out of rater.one's queue (and every door function refuses it like an unassigned one), still in
    rater.two's, the draft kept. Cleared: back at its place with the draft; both steps audited."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    before = order(flagging, "rater.one")
    code = before[1]
    blinded.save_draft(store, flagging.accounts["rater.one"], code, "ea_sensitivity", 4.5)

    blinded.flag(store, flagging.accounts["rater.one"], code, "no_sound", "  only hiss after the first minute ")

    assert order(flagging, "rater.one") == [c for c in before if c != code]
    assert [i.position for i in blinded.queue(store, flagging.accounts["rater.one"])] == [1, 2, 3]
    assert blinded.resume_code(blinded.queue(store, flagging.accounts["rater.one"])) == before[0]
    assert code in order(flagging, "rater.two")
    refused_like_unassigned(flagging, "rater.one", code)
    [raised] = audit_rows(store, "flag.raise")
    assert (raised.actor, raised.entity) == ("rater.one", "flag")
    assert {k: raised.new[k] for k in ("recording", "coder", "reason", "text")} == {
        "recording": code,
        "coder": "rater.one",
        "reason": "no_sound",
        "text": "only hiss after the first minute",
    }
    [shown] = flags.open_flags(store, pi)
    assert (shown.code, shown.coder, shown.reason, shown.text) == (
        code,
        "rater.one",
        "No sound",
        "only hiss after the first minute",
    )

    decided = flags.clear(store, pi, shown.id, "re-imported with its sound")

    assert (decided.code, decided.coder) == (code, "rater.one")
    assert order(flagging, "rater.one") == before
    assert blinded.task(store, flagging.accounts["rater.one"], code).ratings["ea_sensitivity"].score == 4.5
    assert flags.open_flags(store, pi) == []
    [cleared] = audit_rows(store, "flag.clear")
    assert (cleared.actor, cleared.entity_id, cleared.reason) == ("pi.one", str(shown.id), "re-imported with its sound")
    assert (cleared.old, cleared.new["resolution"], cleared.new["coder"]) == (
        {"resolution": None},
        "cleared",
        "rater.one",
    )
    with store.read() as db:
        row = db.get(Flag, shown.id)
        assert (row.resolution, row.resolved_by, row.resolution_note) == (
            "cleared",
            "pi.one",
            "re-imported with its sound",
        )
    # Flagged again later, it is a new flag: the cleared one stays as history.
    blinded.flag(store, flagging.accounts["rater.one"], code, "no_picture")
    assert [f.reason for f in flags.open_flags(store, pi)] == ["No picture"]


def test_excluding_takes_the_recording_out_of_every_queue_and_its_ratings_out_of_what_counts(flagging):
    """rater.two submitted the recording; rater.one flags it; the PI excludes it. It leaves both queues (rater.two's
    submitted work is kept but not served), agreement, consensus and the analysis dataset (listed with the reason)."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    code, other = order(flagging, "rater.one")[:2]
    for name in ("rater.one", "rater.two"):
        code_and_submit(flagging, name, other, 5)
    code_and_submit(flagging, "rater.two", code, 6)
    blinded.save_draft(store, flagging.accounts["rater.one"], code, "ea_sensitivity", 6)
    blinded.flag(store, flagging.accounts["rater.one"], code, "wrong_recording", "another mother and child")
    [shown] = flags.open_flags(store, pi)
    assert len(double_coded(store)[0]) == 4  # the other recording, by two coders on two scales
    record_consensus(store, pi, code, "ea_sensitivity", 6, "watched it")
    ratings_before = row_counts(store)["rating"]

    flags.exclude(store, pi, shown.id, "  not a trial family  ")

    for name in ("rater.one", "rater.two"):
        assert code not in order(flagging, name)
        refused_like_unassigned(flagging, name, code)
    assert row_counts(store)["rating"] == ratings_before  # submitted work is kept, only not served or counted
    assert set(double_coded(store)[0]["code"]) == {other}
    assert consensus_ratings(store, pi).empty
    lock(store, pi)
    data = analysis_dataset(store, pi)
    assert code not in set(data.rows["recording"])
    assert set(data.listed.loc[data.listed["recording"] == code, "reason"]) == {
        "excluded from the study (a coder could not code it): its ratings do not count"
    }
    with store.read() as db:
        row = db.get(Exclusion, db.scalar(select(Recording.id).where(Recording.code == code)))
        assert (row.cause, row.ratings_count, row.reason, row.by) == ("flag", False, "not a trial family", "pi.one")
    [listed] = excluded(store, pi)
    assert (listed.code, listed.cause, listed.ratings_count, listed.reason) == (
        code,
        "a coder could not code it",
        False,
        "not a trial family",
    )
    [recorded] = audit_rows(store, "recording.exclude")
    assert (recorded.actor, recorded.entity_id, recorded.reason) == ("pi.one", code, "not a trial family")
    assert recorded.new == {"recording": code, "cause": "flag", "ratings_count": False, "flag": shown.id}
    [settled] = audit_rows(store, "flag.exclude")
    assert (settled.entity_id, settled.new["resolution"]) == (str(shown.id), "excluded")


def test_excluding_settles_every_open_flag_on_the_recording(flagging):
    """Both coders flagged it: one exclusion settles both flags, and nothing waits for the PI any more."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    code = order(flagging, "rater.one")[0]
    blinded.flag(store, flagging.accounts["rater.one"], code, "no_picture")
    blinded.flag(store, flagging.accounts["rater.two"], code, "other", "black screen throughout")
    first, second = flags.open_flags(store, pi)
    assert [(f.coder, f.reason) for f in (first, second)] == [
        ("rater.one", "No picture"),
        ("rater.two", "Something else (say what)"),
    ]

    flags.exclude(store, pi, second.id, "no picture at all")

    assert flags.open_flags(store, pi) == []
    with store.read() as db:
        assert {f.resolution for f in db.scalars(select(Flag))} == {"excluded"}
    assert {r.entity_id for r in audit_rows(store, "flag.exclude")} == {str(first.id), str(second.id)}
    with pytest.raises(flags.FlagRefused, match=r"was excluded already, by pi\.one on \d{4}-\d\d-\d\d"):
        flags.clear(store, pi, first.id)


def test_an_exclusion_written_elsewhere_takes_the_recording_out_of_coding_and_counts_as_it_says(flagging):
    """Exclusions are one mechanism whoever writes them (a withdrawal, say): out of every queue; the ratings stay in
    agreement when it keeps them and leave when it does not; a flag on an excluded recording no longer waits."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    kept, dropped, flagged = order(flagging, "rater.one")[:3]
    for code in (kept, dropped):
        for name in ("rater.one", "rater.two"):
            code_and_submit(flagging, name, code, 5)
    blinded.flag(store, flagging.accounts["rater.two"], flagged, "no_sound")
    [waiting] = flags.open_flags(store, pi)
    write_exclusions(
        flagging, {kept: ("withdrawal", True), dropped: ("withdrawal", False), flagged: ("withdrawal", False)}
    )

    for name in ("rater.one", "rater.two"):
        assert not {kept, dropped, flagged} & set(order(flagging, name))
    assert set(double_coded(store)[0]["code"]) == {kept}
    assert flags.open_flags(store, pi) == []
    with pytest.raises(flags.FlagRefused, match=rf"recording {flagged} was excluded from the study already"):
        flags.exclude(store, pi, waiting.id, "no sound")


def test_the_counted_ratings_are_read_in_sql_as_the_exclusions_say(flagging):
    """submitted_ratings(counted_only=True) is every submitted rating less those of the recordings whose ratings do
    not count (excluded on a flag, consent withdrawn), keeping an excluded recording whose ratings stay in."""
    store = flagging.store
    kept, dropped, withdrawn, untouched = order(flagging, "rater.one")
    for code in (kept, dropped, withdrawn, untouched):
        for name in ("rater.one", "rater.two"):
            code_and_submit(flagging, name, code, 5)
    write_exclusions(flagging, {kept: ("flag", True), dropped: ("flag", False), withdrawn: ("withdrawal", False)})

    with store.read() as db:
        every, counted, gone = submitted_ratings(db), submitted_ratings(db, counted_only=True), not_counted(db)
    assert gone == {dropped: "flag", withdrawn: "withdrawal"}
    assert counted.equals(every[~every["code"].isin(list(gone))].reset_index(drop=True))
    assert set(counted["code"]) == {kept, untouched} and len(counted) == 2 * 2 * len(SCALES)


@pytest.mark.parametrize(
    ("reason", "words", "message"),
    [
        (
            "sound_gone",
            "",
            "no reason 'sound_gone': choose one of no_picture, no_sound, wrong_recording, not_the_task, other",
        ),
        ("other", "   ", 'say what is wrong: "Something else (say what)" needs a few words'),
        ("no_sound", "x" * 2_001, "limited to 2,000 characters; this has 2,001: shorten it by 1"),
    ],
)
def test_a_flag_without_a_listed_reason_or_with_too_much_text_is_refused_and_keeps_nothing(
    flagging, reason, words, message
):
    store = flagging.store
    code = order(flagging, "rater.one")[0]
    counts = row_counts(store)
    with pytest.raises(flags.FlagRefused, match=re.escape(message)):
        blinded.flag(store, flagging.accounts["rater.one"], code, reason, words)
    assert row_counts(store) == counts
    assert code in order(flagging, "rater.one")


def test_a_submitted_recording_cannot_be_flagged(flagging):
    store = flagging.store
    code = order(flagging, "rater.one")[0]
    code_and_submit(flagging, "rater.one", code, 5)
    counts = row_counts(store)
    with pytest.raises(flags.FlagRefused, match="this recording has been submitted: it cannot be flagged"):
        blinded.flag(store, flagging.accounts["rater.one"], code, "no_picture")
    assert row_counts(store) == counts


def test_only_coders_flag_and_only_the_pi_decides(flagging):
    """A PI at the coders' door and a coder at the PI's functions are refused by role, and audited."""
    store, pi, coder = flagging.store, flagging.accounts["pi.one"], flagging.accounts["rater.one"]
    code = order(flagging, "rater.one")[0]
    with pytest.raises(NotAllowed):
        blinded.flag(store, pi, code, "no_picture")
    blinded.flag(store, coder, code, "no_picture")
    [shown] = flags.open_flags(store, pi)
    for call in (
        lambda: flags.open_flags(store, coder),
        lambda: flags.clear(store, coder, shown.id),
        lambda: flags.exclude(store, coder, shown.id, "mine"),
        lambda: excluded(store, coder),
    ):
        with pytest.raises(NotAllowed):
            call()
    assert len(audit_rows(store, "refused.flag")) == 3 and len(audit_rows(store, "refused.exclusion")) == 1
    assert len(flags.open_flags(store, pi)) == 1


def test_a_decision_is_refused_on_a_decided_or_unknown_flag_and_an_exclusion_needs_a_reason(flagging):
    store, pi = flagging.store, flagging.accounts["pi.one"]
    code = order(flagging, "rater.one")[0]
    blinded.flag(store, flagging.accounts["rater.one"], code, "no_picture")
    [shown] = flags.open_flags(store, pi)
    with pytest.raises(flags.FlagRefused, match="excluding a recording from the study needs a reason"):
        flags.exclude(store, pi, shown.id, "  ")
    with pytest.raises(NotFound, match="no flag 999"):
        flags.clear(store, pi, 999)
    flags.clear(store, pi, shown.id)
    counts = row_counts(store)
    for call in (
        lambda: flags.clear(store, pi, shown.id, "again"),
        lambda: flags.exclude(store, pi, shown.id, "after all"),
    ):
        with pytest.raises(
            flags.FlagRefused, match=rf"the flag on recording {code} was cleared already, by pi\.one on "
        ):
            call()
    assert row_counts(store) == counts


def test_no_exclusion_while_coding_is_locked_but_a_flag_can_go_back(flagging):
    """Excluding after the lock would change which ratings count: refused until the PI unlocks (audited, with a
    reason). Clearing changes no rating and stays possible."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    first, second = order(flagging, "rater.one")[:2]
    for code in (first, second):
        blinded.flag(store, flagging.accounts["rater.one"], code, "no_picture")
    one, two = flags.open_flags(store, pi)
    lock(store, pi, "ea_sensitivity")
    counts = row_counts(store)
    with pytest.raises(CodingClosed, match="excluding a recording refused"):
        flags.exclude(store, pi, one.id, "no picture")
    assert row_counts(store) == counts
    flags.clear(store, pi, two.id)
    unlock(store, pi, "ea_sensitivity", "a recording to exclude")
    flags.exclude(store, pi, one.id, "no picture")
    assert flags.open_flags(store, pi) == []


def test_exclusion_rows_are_never_changed_or_deleted(flagging):
    store, pi = flagging.store, flagging.accounts["pi.one"]
    blinded.flag(store, flagging.accounts["rater.one"], order(flagging, "rater.one")[0], "no_picture")
    flags.exclude(store, pi, flags.open_flags(store, pi)[0].id, "no picture")
    for statement in ("UPDATE exclusion SET ratings_count = true", "DELETE FROM exclusion"):
        with pytest.raises(Exception, match="exclusion rows are never"), store.write() as db:
            db.execute(text(statement))


def test_progress_counts_flagged_and_excluded_recordings_and_what_is_left(flagging):
    store, pi = flagging.store, flagging.accounts["pi.one"]
    first, second, third = order(flagging, "rater.one")[:3]
    code_and_submit(flagging, "rater.one", first, 5)
    blinded.flag(store, flagging.accounts["rater.one"], second, "no_sound")
    blinded.flag(store, flagging.accounts["rater.one"], third, "no_picture")
    flags.exclude(store, pi, flags.open_flags(store, pi)[1].id, "no picture")

    table = coder_progress(store, pi).set_index(["coder", "scale"])

    columns = ["assigned", "in_progress", "submitted", "flagged", "excluded", "left"]
    label = "Maternal sensitivity (EA Scales)"
    assert table.loc[("rater.one", label), columns].tolist() == [4, 0, 1, 1, 1, 1]
    assert table.loc[("rater.two", label), columns].tolist() == [4, 0, 0, 0, 1, 3]


@pytest.mark.parametrize("store", ["postgresql"], indirect=True)  # SQLite serialises every write transaction whole
def test_on_postgresql_a_second_decision_on_a_flag_waits_for_the_first_and_refuses(flagging):
    """An exclusion asked while a clear of the same flag is not yet committed: it waits for it, then refuses. READ
    COMMITTED alone would let it read the flag as open, exclude the recording and settle the flag a second time."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    blinded.flag(store, flagging.accounts["rater.one"], order(flagging, "rater.one")[0], "no_sound")
    [shown] = flags.open_flags(store, pi)
    outcome: list[str] = []

    def exclude() -> None:
        try:
            flags.exclude(store, pi, shown.id, "no sound")
            outcome.append("excluded")
        except flags.FlagRefused as refusal:
            outcome.append(str(refusal))

    second = threading.Thread(target=exclude)
    with store.write() as db:  # the first decision, holding the flag until it commits
        db.execute(
            text("UPDATE flag SET resolution = 'cleared', resolved_by = 'pi.one', resolved_at = now() WHERE id = :id"),
            {"id": shown.id},
        )
        second.start()
        waiting, deadline = 0, time.monotonic() + 30
        while not waiting and not outcome:
            assert time.monotonic() < deadline, "the second decision neither waited nor finished"
            with store.read() as reading:
                waiting = reading.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar()
        assert waiting == 1
    second.join(30)
    [said] = outcome
    assert said.startswith(f"the flag on recording {shown.code} was cleared already, by pi.one on ")
    assert row_counts(store)["exclusion"] == 0


def test_an_excluded_recording_enters_no_queue_no_draw_and_no_fidelity_figure(flagging):
    """Exclusion is for good: a later assignment of every video passes it over, naming it is refused, a fidelity draw
    never picks an excluded session, and an excluded session's adherence leaves the fidelity figures."""
    store, pi = flagging.store, flagging.accounts["pi.one"]
    sessions = add_recordings(
        store, [dict(recording_id=f"S{n}", participant_id="P1", kind="audio", session=str(n)) for n in range(1, 5)]
    )
    flagging.accounts["rater.three"] = add_account(store, "rater.three", "coder")
    fidelity_coder = add_account(store, "fid.one", "fidelity")
    assign(store, ["fid.one"], kind="audio", recordings=sessions["S1"], actor="pi.one")
    for scale in ("vipp_adherence",):
        blinded.save_draft(store, fidelity_coder, sessions["S1"], scale, 2)
    assert blinded.submit(store, fidelity_coder, sessions["S1"])
    gone = order(flagging, "rater.one")[0]
    with store.write() as db:
        ids = dict(db.execute(select(Recording.code, Recording.id)).all())
        db.add_all(
            [
                Exclusion(recording_id=ids[code], cause="flag", ratings_count=False, by="pi.one")
                for code in (gone, sessions["S1"], sessions["S2"])
            ]
        )

    assign(store, ["rater.three"], kind="video", actor="pi.one")
    assert set(order(flagging, "rater.three")) == set(flagging.codes.values()) - {gone}
    with pytest.raises(ValueError, match=rf"excluded from the study, so not assigned: {gone}"):
        assign(store, ["rater.three"], kind="video", recordings=gone, actor="pi.one")
    summary = draw_fidelity(store, fraction=1.0, seed=1, actor="pi.one")
    assert summary.frame_size == 2 and summary.drawn == 2
    assert fidelity_scores(store, pi).scores.empty
