"""Assignments: roles per kind, a random order per coder, later work shuffled among the unstarted, even splits, draws,
the fidelity draw by default, unassigning unstarted work, audited."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from coding_app.assignments import AssignmentError, assign, enqueue, unassign
from coding_app.codebook import CodebookError
from coding_app.errors import NotFound
from coding_app.imports.ratings import import_ratings
from coding_app.sampling import draw_fidelity, draw_members
from coding_app.store.models import (
    Account,
    Assignment,
    AssignmentScale,
    Rating,
    RecordingKey,
    ScaleRow,
    now,
)
from tests.coding_app.helpers import (
    add_account,
    add_recordings,
    audit_rows,
    external_ids,
    row_counts,
    write_csv,
)

VIDEOS = [f"V{n}" for n in range(1, 7)]
AUDIO = [f"A{n}" for n in range(1, 5)]


def videos(ids):
    return [dict(recording_id=r, participant_id=f"P{r}", kind="video", timepoint="baseline") for r in ids]


def setup_study(store) -> dict[str, str]:
    """Six videos and four session recordings, in import order V1..V6, A1..A4; one account per role."""
    codes = add_recordings(store, videos(VIDEOS))
    codes |= add_recordings(
        store,
        [
            dict(recording_id=r, participant_id="PA", kind="audio", session=r[1:], clinician="clinician A")
            for r in AUDIO
        ],
    )
    for name, role in (
        ("rater.one", "coder"),
        ("rater.two", "coder"),
        ("rater.three", "coder"),
        ("fidelity.one", "fidelity"),
        ("pi.one", "pi"),
    ):
        add_account(store, name, role)
    return codes


def queue_of(store, name: str) -> list[tuple[int, str]]:
    """(position, manifest id) of a coder's assignments, in position order."""
    with store.read() as db:
        return [
            tuple(r)
            for r in db.execute(
                select(Assignment.position, RecordingKey.external_id)
                .join(Account, Account.id == Assignment.account_id)
                .join(RecordingKey, RecordingKey.recording_id == Assignment.recording_id)
                .where(Account.name == name)
                .order_by(Assignment.position)
            )
        ]


def order(store, name: str) -> list[str]:
    return [external for _, external in queue_of(store, name)]


def scales_of(store, name: str) -> dict[str, set[str]]:
    with store.read() as db:
        rows = db.execute(
            select(RecordingKey.external_id, ScaleRow.key)
            .join(Assignment, Assignment.recording_id == RecordingKey.recording_id)
            .join(Account, Account.id == Assignment.account_id)
            .join(AssignmentScale, AssignmentScale.assignment_id == Assignment.id)
            .join(ScaleRow, ScaleRow.id == AssignmentScale.scale_id)
            .where(Account.name == name)
        )
        found: dict[str, set[str]] = {}
        for external, key in rows:
            found.setdefault(external, set()).add(key)
    return found


REFUSED = {
    "fidelity given video": (
        ["fidelity.one"],
        "video",
        AssignmentError,
        "fidelity.one has the fidelity role; video recordings go to coder",
    ),
    "coder given audio": (
        ["rater.one"],
        "audio",
        AssignmentError,
        "rater.one has the coder role; audio recordings go to fidelity",
    ),
    "pi": (["pi.one"], "video", AssignmentError, "pi.one has the pi role"),
    "pi among coders": (["rater.one", "pi.one"], "video", AssignmentError, "pi.one has the pi role"),
    "unknown account": (["nobody"], "video", NotFound, "no active account named 'nobody'"),
    "unknown kind": (["rater.one"], "photo", AssignmentError, "kind must be video or audio"),
}


def test_roles_are_enforced_per_kind_and_a_refusal_assigns_nothing(study, subtests):
    """Video goes to coder accounts, audio to fidelity accounts, never to a PI; refusals store nothing."""
    setup_study(study.store)
    counts = row_counts(study.store)
    for case, (coders, kind, error, message) in REFUSED.items():
        with subtests.test(case):
            with pytest.raises(error, match=message):
                assign(study.store, coders, kind=kind, seed=1, actor="pi.one")
            assert row_counts(study.store) == counts


def test_the_right_roles_get_their_kind(study):
    """A coder gets every video on both EA scales, a fidelity coder every session on the adherence scale."""
    setup_study(study.store)
    assign(study.store, ["rater.one"], kind="video", seed=1, actor="pi.one")
    assign(study.store, ["fidelity.one"], kind="audio", seed=1, actor="pi.one")
    assert scales_of(study.store, "rater.one") == {v: {"ea_sensitivity", "ea_non_intrusiveness"} for v in VIDEOS}
    assert scales_of(study.store, "fidelity.one") == {a: {"vipp_adherence"} for a in AUDIO}


def test_each_coder_gets_their_own_random_order_reproducible_from_the_seed(study):
    """Different seeds give different orders; the same seed the same order; positions run 1..n."""
    setup_study(study.store)

    assign(study.store, ["rater.one"], kind="video", seed=1, actor="pi.one")
    assign(study.store, ["rater.two"], kind="video", seed=2, actor="pi.one")
    assign(study.store, ["rater.three"], kind="video", seed=1, actor="pi.one")

    one, two, three = (order(study.store, n) for n in ("rater.one", "rater.two", "rater.three"))
    assert sorted(one) == sorted(two) == VIDEOS
    assert one != two
    assert one != VIDEOS  # not import (visit) order
    assert three == one
    for name in ("rater.one", "rater.two", "rater.three"):
        assert [p for p, _ in queue_of(study.store, name)] == list(range(1, len(VIDEOS) + 1))


def test_coders_assigned_together_get_different_orders(study):
    """Double coding in one call still gives each coder an order of their own."""
    setup_study(study.store)
    assign(study.store, ["rater.one", "rater.two"], kind="video", seed=9, actor="pi.one")
    one, two = order(study.store, "rater.one"), order(study.store, "rater.two")
    assert sorted(one) == sorted(two) == VIDEOS and one != two


def start(store, name: str, external: str, status: str) -> None:
    """A draft (work in progress) or a submitted rating of one of the coder's recordings, on one scale."""
    with store.write() as db:
        assignment = db.scalar(
            select(Assignment)
            .join(Account, Account.id == Assignment.account_id)
            .join(RecordingKey, RecordingKey.recording_id == Assignment.recording_id)
            .where(Account.name == name, RecordingKey.external_id == external)
        )
        scale = db.scalar(select(ScaleRow.id).where(ScaleRow.key == "ea_sensitivity"))
        db.add(
            Rating(
                assignment_id=assignment.id,
                scale_id=scale,
                score=5,
                status=status,
                submitted_at=now() if status == "submitted" else None,
            )
        )


def test_new_work_is_shuffled_among_the_unstarted_and_started_work_stays_put(study):
    """Recordings assigned later take random places among those not started; started and submitted ones keep theirs."""
    codes = setup_study(study.store)
    early = [f"V{n}" for n in range(10, 30)]
    add_recordings(study.store, videos(early))
    assign(
        study.store,
        ["rater.one"],
        kind="video",
        recordings=",".join(codes[v] for v in ("V4", "V2", "V6")),
        seed=3,
        actor="pi.one",
    )
    assign(study.store, ["rater.one"], kind="video", recordings="all", seed=5, actor="pi.one")
    start(study.store, "rater.one", "V2", "submitted")
    start(study.store, "rater.one", "V4", "draft")
    before = dict((e, p) for p, e in queue_of(study.store, "rater.one"))
    late = [f"V{n}" for n in range(30, 50)]
    add_recordings(study.store, videos(late))

    summary = assign(study.store, ["rater.one"], kind="video", recordings="all", seed=4, actor="pi.one")

    assert summary.added == {"rater.one": len(late)}
    queue = queue_of(study.store, "rater.one")
    assert [p for p, _ in queue] == list(range(1, len(before) + len(late) + 1))
    now_at = dict((e, p) for p, e in queue)
    assert (now_at["V2"], now_at["V4"]) == (before["V2"], before["V4"])
    # Interleaved: the later recordings are spread over the whole queue, the earlier unstarted ones too.
    unstarted_before = [now_at[e] for e in before if e not in ("V2", "V4")]
    assert min(now_at[e] for e in late) < max(unstarted_before) and max(now_at[e] for e in late) > min(unstarted_before)
    assert sum(now_at[e] <= len(before) for e in late) >= len(late) // 4


VISITS = [f"V{n}" for n in range(10, 50)]
"""Forty videos in visit order: the first twenty in rater.one's queue, the rest added one at a time."""


def first_twenty_assigned(study) -> None:
    setup_study(study.store)
    ids = add_recordings(study.store, videos(VISITS))
    assign(
        study.store,
        ["rater.one"],
        kind="video",
        recordings=",".join(ids[v] for v in VISITS[:20]),
        seed=1,
        actor="pi.one",
    )


def test_recordings_enqueued_one_at_a_time_in_visit_order_land_in_a_random_order(study):
    """As a ratings import adds them, file row by file row: the queue does not follow the file."""
    first_twenty_assigned(study)
    rng = np.random.default_rng(7)
    with study.store.write() as db:
        account = db.scalar(select(Account.id).where(Account.name == "rater.one"))
        recordings = dict(db.execute(select(RecordingKey.external_id, RecordingKey.recording_id)).all())
        for visit in VISITS[20:]:
            enqueue(db, account, [recordings[visit]], rng)

    queue = order(study.store, "rater.one")
    later = [e for e in queue if e in VISITS[20:]]
    assert sorted(queue) == sorted(VISITS) and later != VISITS[20:]
    assert sum(queue.index(e) < 20 for e in VISITS[20:]) >= 5  # not all appended after the first twenty


def test_the_coding_order_of_an_import_does_not_follow_the_file(study):
    """import-ratings assigns recordings row by row: each joins the coder's queue at a random unstarted place."""
    first_twenty_assigned(study)
    rows = [dict(recording_id=v, coder="rater.one", scale="ea_sensitivity", score="5") for v in VISITS[20:]]

    import_ratings(
        study.store, write_csv(study.root / "r.csv", rows, ("recording_id", "coder", "scale", "score")), "pi.one"
    )

    queue = order(study.store, "rater.one")
    assert [e for e in queue if e in VISITS[20:]] != VISITS[20:]
    assert sum(queue.index(e) < 20 for e in VISITS[20:]) >= 5


def test_split_deals_recordings_evenly_without_overlap(study):
    """Seven videos split between two coders: 4 and 3, disjoint; a later split deals only the new ones."""
    setup_study(study.store)
    add_recordings(study.store, videos(["V7"]))

    summary = assign(study.store, ["rater.one", "rater.two"], kind="video", split=True, seed=5, actor="pi.one")

    one, two = set(order(study.store, "rater.one")), set(order(study.store, "rater.two"))
    assert sorted(summary.added.values()) == [3, 4]
    assert not one & two and one | two == set(VIDEOS) | {"V7"}

    add_recordings(study.store, videos(["V8", "V9", "V10"]))
    again = assign(study.store, ["rater.one", "rater.two"], kind="video", split=True, seed=6, actor="pi.one")

    assert sorted(again.added.values()) == [1, 2]
    one2, two2 = set(order(study.store, "rater.one")), set(order(study.store, "rater.two"))
    assert one <= one2 and two <= two2
    assert not one2 & two2 and one2 | two2 == set(VIDEOS) | {"V7", "V8", "V9", "V10"}


def test_a_draw_can_be_assigned_and_only_its_members_are(study):
    """draw:N gives exactly the draw's recordings; a fidelity draw is not video work."""
    setup_study(study.store)
    summary = draw_fidelity(study.store, fraction=0.5, seed=8, actor="pi.one")
    with study.store.read() as db:
        members = sorted(external_ids(study.store, draw_members(db, summary.draw_id)))
    assert len(members) == 2

    assign(study.store, ["fidelity.one"], kind="audio", recordings=f"draw:{summary.draw_id}", seed=1, actor="pi.one")

    assert sorted(order(study.store, "fidelity.one")) == members
    with pytest.raises(AssignmentError, match=f"draw {summary.draw_id} is a fidelity draw, not of video recordings"):
        assign(study.store, ["rater.one"], kind="video", recordings=f"draw:{summary.draw_id}", seed=1, actor="pi.one")
    with pytest.raises(AssignmentError, match="a draw is named draw:NUMBER"):
        assign(study.store, ["rater.one"], kind="video", recordings="draw:first", seed=1, actor="pi.one")


def test_reassigning_adds_only_the_missing_scales(study):
    """A recording already queued gains the scales it lacks; no new assignment, positions unchanged."""
    setup_study(study.store)
    assign(study.store, ["rater.one"], kind="video", scales=["ea_sensitivity"], seed=1, actor="pi.one")
    assert scales_of(study.store, "rater.one") == {v: {"ea_sensitivity"} for v in VIDEOS}
    before = queue_of(study.store, "rater.one")

    summary = assign(study.store, ["rater.one"], kind="video", seed=2, actor="pi.one")

    assert summary.added == {"rater.one": 0}
    assert queue_of(study.store, "rater.one") == before
    assert scales_of(study.store, "rater.one") == {v: {"ea_sensitivity", "ea_non_intrusiveness"} for v in VIDEOS}
    with pytest.raises(AssignmentError, match="scale 'vipp_adherence' rates audio recordings, not video"):
        assign(study.store, ["rater.one"], kind="video", scales=["vipp_adherence"], seed=2, actor="pi.one")
    with pytest.raises(CodebookError, match="no scale 'ea_warmth'"):
        assign(study.store, ["rater.one"], kind="video", scales=["ea_warmth"], seed=2, actor="pi.one")


def test_assignments_are_audited_with_the_seed_that_reproduces_them(study):
    """The audit row keeps the seed (drawn fresh when none is given); that seed rebuilds the same order."""
    setup_study(study.store)

    summary = assign(study.store, ["rater.one"], kind="video", actor="pi.one")  # no seed given

    [entry] = audit_rows(study.store, "assignment.add")
    assert (entry.actor, entry.entity_id) == ("pi.one", "rater.one")
    assert entry.new["seed"] == summary.seed
    assert {k: entry.new[k] for k in ("recordings", "kind", "from", "split")} == {
        "recordings": 6,
        "kind": "video",
        "from": "all video recordings",
        "split": False,
    }
    assign(study.store, ["rater.two"], kind="video", seed=entry.new["seed"], actor="pi.one")
    assert order(study.store, "rater.two") == order(study.store, "rater.one")


def fidelity_draw(study) -> list[str]:
    """Half the four sessions drawn for fidelity coding; their manifest ids."""
    setup_study(study.store)
    summary = draw_fidelity(study.store, fraction=0.5, seed=8, actor="pi.one")
    with study.store.read() as db:
        return sorted(external_ids(study.store, draw_members(db, summary.draw_id)))


def test_audio_assigned_without_naming_recordings_gets_all_sessions_until_a_fidelity_draw_exists(study):
    """Before any draw there is nothing else to mean: every session, and no warning."""
    setup_study(study.store)
    summary = assign(study.store, ["fidelity.one"], kind="audio", seed=1, actor="pi.one")
    assert sorted(order(study.store, "fidelity.one")) == AUDIO
    assert (summary.chosen, summary.outside_draw, summary.warnings) == ("all audio recordings", {"fidelity.one": 0}, [])


def test_once_a_fidelity_draw_exists_audio_means_the_draw_and_every_session_only_by_name(study):
    """--kind audio alone gives the draw; 'all' gives every session, counted, warned about and audited."""
    members = fidelity_draw(study)
    assert len(members) == 2

    summary = assign(study.store, ["fidelity.one"], kind="audio", seed=1, actor="pi.one")

    assert sorted(order(study.store, "fidelity.one")) == members
    assert (summary.added, summary.chosen, summary.warnings) == ({"fidelity.one": 2}, "the fidelity draw", [])
    everything = assign(study.store, ["fidelity.one"], kind="audio", recordings="all", seed=2, actor="pi.one")
    assert sorted(order(study.store, "fidelity.one")) == AUDIO
    assert everything.outside_draw == {"fidelity.one": 2}
    [warning] = everything.warnings
    assert warning.startswith("fidelity.one: 2 of these audio recordings are outside the fidelity draw")
    assert [e.new["outside_draw"] for e in audit_rows(study.store, "assignment.add")] == [0, 2]


def test_a_draw_gives_its_own_kind_and_a_contradicting_kind_is_refused(study):
    """draw:N needs no --kind; a --kind that is not the draw's is refused whole, naming both."""
    members = fidelity_draw(study)
    counts = row_counts(study.store)
    with pytest.raises(
        AssignmentError, match="draw 1 is a fidelity draw, not of video recordings: its recordings are audio"
    ):
        assign(study.store, ["fidelity.one"], kind="video", recordings="draw:1", seed=1, actor="pi.one")
    assert row_counts(study.store) == counts

    summary = assign(study.store, ["fidelity.one"], recordings="draw:1", seed=1, actor="pi.one")

    assert (summary.kind, summary.chosen) == ("audio", "draw 1")
    assert sorted(order(study.store, "fidelity.one")) == members


def test_unassign_takes_out_only_recordings_not_started_and_is_audited(study):
    """Started work (a draft or a submitted rating) refuses the whole request; unstarted ones leave, the rest stay
    put."""
    codes = setup_study(study.store)
    assign(study.store, ["rater.one"], kind="video", seed=1, actor="pi.one")
    start(study.store, "rater.one", "V1", "draft")
    start(study.store, "rater.one", "V2", "submitted")
    for started in ("V1", "V2"):
        counts = row_counts(study.store)
        with pytest.raises(AssignmentError, match=f"rater.one has started {codes[started]} .*nothing was unassigned"):
            unassign(study.store, "rater.one", recordings=f"{codes['V3']},{codes[started]}", actor="pi.one")
        assert row_counts(study.store) == counts
    kept = [(p, r) for p, r in queue_of(study.store, "rater.one") if r in ("V1", "V2")]

    summary = unassign(study.store, "rater.one", recordings=",".join(codes[v] for v in VIDEOS[2:]), actor="pi.one")

    assert summary.removed == 4
    assert queue_of(study.store, "rater.one") == kept
    [entry] = audit_rows(study.store, "assignment.remove")
    assert (entry.actor, entry.entity_id, entry.old["recordings"]) == ("pi.one", "rater.one", 4)
    assert summary.warnings == [
        "rater.one stays the primary coder of 4 of them (the first coder assigned; a primary "
        "never changes): only their score, or a consensus rating, counts for those"
    ]
    again = assign(study.store, ["rater.one"], kind="video", seed=2, actor="pi.one")
    assert again.added == {"rater.one": 4} and sorted(order(study.store, "rater.one")) == VIDEOS
    with pytest.raises(
        AssignmentError, match=r"nothing to unassign: rater.two's queue has none of these \(recordings "
    ):
        unassign(study.store, "rater.two", recordings=codes["V3"], actor="pi.one")


def test_a_named_primary_coder_cannot_be_unassigned(study):
    """Whose score counts was fixed by name before any score was seen: taking them off is refused."""
    codes = setup_study(study.store)
    assign(
        study.store,
        ["rater.one", "rater.two"],
        kind="video",
        recordings=codes["V1"],
        primary="rater.two",
        seed=1,
        actor="pi.one",
    )
    with pytest.raises(AssignmentError, match=f"rater.two was named the primary coder of {codes['V1']}"):
        unassign(study.store, "rater.two", recordings=codes["V1"], actor="pi.one")
    assert unassign(study.store, "rater.one", recordings=codes["V1"], actor="pi.one").removed == 1
