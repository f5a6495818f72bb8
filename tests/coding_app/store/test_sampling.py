"""Sampling draws: documented rounding, reproducible from seed and frame, top-ups, stored and audited."""

from __future__ import annotations

import math
from collections import Counter

import pytest
from sqlalchemy import select

from coding_app.codebook import load_codebook
from coding_app.imports.manifest import import_manifest
from coding_app.sampling import (
    COUNT_ROUNDING,
    FRACTION_ROUNDING,
    DrawError,
    draw_fidelity,
    draw_members,
    draw_reliability,
)
from coding_app.store.models import Draw
from coding_app.study_setup import initialise
from tests.coding_app.helpers import add_recordings, audit_rows, external_ids, keys_by_external_id, row_counts

# Session audio by clinician: 30, 11 and 3 recordings. A tenth, rounded up within each stratum,
# is 3 (0.1 x 30 is 3.0000000000000004 in floating point: still 3), 2 (1.1 -> 2) and 1 (0.3 -> 1).
CLINICIAN_SIZES = {"clinician A": 30, "clinician B": 11, "clinician C": 3}


def session_audio(prefix: str = "S") -> list[dict[str, str]]:
    rows = []
    for clinician, size in CLINICIAN_SIZES.items():
        for number in range(size):
            participant = f"P{clinician[-1]}{number // 6}"
            rows.append(
                dict(
                    recording_id=f"{prefix}-{clinician[-1]}-{number:02d}",
                    participant_id=participant,
                    kind="audio",
                    clinician=clinician,
                    session=str(number % 6 + 1),
                    arm="VIPP-PMH",
                )
            )
    return rows


# Play videos by arm x timepoint cell. Recording ids sort with VIPP-PMH/baseline first.
CELL_SIZES = {
    ("VIPP-PMH", "baseline"): 5,
    ("VIPP-PMH", "month 5"): 4,
    ("VIPP-PMH", "month 8"): 3,
    ("usual care", "baseline"): 5,
    ("usual care", "month 5"): 2,
    ("usual care", "month 8"): 1,
}


def play_videos(unallocated: int = 0) -> list[dict[str, str]]:
    rows = []
    for cell, ((arm, timepoint), size) in enumerate(CELL_SIZES.items()):
        for number in range(size):
            rows.append(
                dict(
                    recording_id=f"V{cell}-{number}",
                    participant_id=f"{arm[0]}{number}",
                    kind="video",
                    arm=arm,
                    timepoint=timepoint,
                )
            )
    for number in range(unallocated):
        rows.append(
            dict(recording_id=f"V9-{number}", participant_id="late", kind="video", arm="", timepoint="baseline")
        )
    return rows


def members_by(store, draw_id: int, field: str) -> Counter:
    found = keys_by_external_id(store)
    with store.read() as db:
        members = set(external_ids(store, draw_members(db, draw_id)))
    counts = Counter()
    for external in members:
        _, key, participant = found[external]
        counts[{"clinician": key.clinician, "cell": f"{participant.arm} x {key.timepoint}"}[field]] += 1
    return counts


def test_fidelity_fraction_is_rounded_up_within_each_clinician_stratum(study):
    """0.10 of strata of 30, 11 and 3 draws 3, 2 and 1: ceil per stratum, not of the total."""
    add_recordings(study.store, session_audio())

    summary = draw_fidelity(study.store, fraction=0.10, seed=11, stratify=("clinician",), actor="pi.one")

    expected = {c: math.ceil(round(0.10 * size, 9)) for c, size in CLINICIAN_SIZES.items()}
    assert expected == {"clinician A": 3, "clinician B": 2, "clinician C": 1}
    assert summary.strata == {c: {"size": CLINICIAN_SIZES[c], "drawn": expected[c]} for c in CLINICIAN_SIZES}
    assert (summary.frame_size, summary.drawn) == (44, 6)
    assert members_by(study.store, summary.draw_id, "clinician") == Counter(expected)


def test_same_seed_and_frame_on_a_fresh_database_draws_the_same_recordings(study, fresh_store):
    """Reproducible: recordings added in another order to another database, same seed -> same external ids."""
    rows = session_audio()
    add_recordings(study.store, rows)
    other = fresh_store()
    initialise(other, load_codebook(), "test")
    add_recordings(other, list(reversed(rows)))

    first = draw_fidelity(study.store, fraction=0.10, seed=2024, stratify=("clinician",), actor="pi.one")
    again = draw_fidelity(other, fraction=0.10, seed=2024, stratify=("clinician",), actor="pi.one")

    with study.store.read() as db, other.read() as db2:
        drawn = sorted(external_ids(study.store, draw_members(db, first.draw_id)))
        redrawn = sorted(external_ids(other, draw_members(db2, again.draw_id)))
        frame = external_ids(study.store, db.get(Draw, first.draw_id).frame)
        frame_again = external_ids(other, db2.get(Draw, again.draw_id).frame)
    assert drawn == redrawn and len(drawn) == 6
    assert frame == frame_again == sorted(r["recording_id"] for r in rows)

    different = fresh_store()
    initialise(different, load_codebook(), "test")
    add_recordings(different, rows)
    third = draw_fidelity(different, fraction=0.10, seed=2025, stratify=("clinician",), actor="pi.one")
    with different.read() as db:
        assert sorted(external_ids(different, draw_members(db, third.draw_id))) != drawn  # the seed matters


def test_a_second_draw_without_top_up_is_refused(study):
    """A draw exists: drawing again from scratch would replace the sample, so it is refused."""
    add_recordings(study.store, session_audio())
    draw_fidelity(study.store, fraction=0.10, seed=1, actor="pi.one")
    counts = row_counts(study.store)

    with pytest.raises(DrawError, match="use --top-up"):
        draw_fidelity(study.store, fraction=0.10, seed=2, actor="pi.one")
    with pytest.raises(DrawError, match="no audio recordings imported since the last draw"):
        draw_fidelity(study.store, fraction=0.10, seed=2, top_up=True, actor="pi.one")  # nothing new yet
    assert row_counts(study.store) == counts


def test_top_up_after_importing_more_draws_only_new_recordings_and_keeps_the_first_draw(study, clips, write_manifest):
    """Re-importing the manifest with new rows, a top-up samples just those; draw 1 is untouched."""
    folder = study.root / "audio"
    first_rows = [
        dict(
            recording_id=f"S{n}",
            participant_id="P1",
            site="North",
            kind="audio",
            session=str(n),
            clinician="clinician X" if n <= 4 else "clinician Y",
            path=str(clips.wav_variant(folder, n)),
        )
        for n in range(1, 7)
    ]
    import_manifest(study.store, study.media, write_manifest(first_rows), "importer")
    first = draw_fidelity(study.store, fraction=0.5, seed=5, stratify=("clinician",), actor="pi.one")
    assert first.strata == {"clinician X": {"size": 4, "drawn": 2}, "clinician Y": {"size": 2, "drawn": 1}}
    with study.store.read() as db:
        draw = db.get(Draw, first.draw_id)
        before = (list(draw.frame), dict(draw.strata), sorted(draw_members(db, first.draw_id)))

    new_rows = [
        dict(
            recording_id=f"S{n}",
            participant_id="P2",
            site="North",
            kind="audio",
            session=str(n - 6),
            clinician="clinician X" if n <= 8 else "clinician Z",
            path=str(clips.wav_variant(folder, n)),
        )
        for n in range(7, 10)
    ]
    import_manifest(study.store, study.media, write_manifest(first_rows + new_rows), "importer")
    top_up = draw_fidelity(study.store, fraction=0.5, seed=6, stratify=("clinician",), top_up=True, actor="pi.one")

    assert top_up.strata == {"clinician X": {"size": 2, "drawn": 1}, "clinician Z": {"size": 1, "drawn": 1}}
    with study.store.read() as db:
        draw = db.get(Draw, first.draw_id)
        assert (list(draw.frame), dict(draw.strata), sorted(draw_members(db, first.draw_id))) == before
        added = db.get(Draw, top_up.draw_id)
        assert added.tops_up == first.draw_id
        assert external_ids(study.store, added.frame) == ["S7", "S8", "S9"]
        topped = external_ids(study.store, draw_members(db, top_up.draw_id))
    assert len(topped) == 2 and set(topped) <= {"S7", "S8", "S9"} and "S9" in topped


def test_reliability_draw_by_count_covers_every_cell_and_follows_the_largest_remainder_rule(study):
    """n=10 over cells of 5,4,3,5,2,1: one each, then 4 more by remainder of 4*(size-1)/14 -> 2,2,2,2,1,1."""
    add_recordings(study.store, play_videos())

    summary = draw_reliability(study.store, seed=3, n=10, actor="pi.one")

    # quotas 16/14, 12/14, 8/14, 16/14, 4/14, 0: floors give 2,1,1,2,1,1 (8); the two left go to the
    # largest remainders, 12/14 and 8/14 (VIPP-PMH month 5 and month 8).
    expected = {
        "VIPP-PMH x baseline": 2,
        "VIPP-PMH x month 5": 2,
        "VIPP-PMH x month 8": 2,
        "usual care x baseline": 2,
        "usual care x month 5": 1,
        "usual care x month 8": 1,
    }
    assert {label: s["drawn"] for label, s in summary.strata.items()} == expected
    assert {label: s["size"] for label, s in summary.strata.items()} == {
        f"{arm} x {tp}": size for (arm, tp), size in CELL_SIZES.items()
    }
    assert members_by(study.store, summary.draw_id, "cell") == Counter(expected)
    with study.store.read() as db:
        assert db.get(Draw, summary.draw_id).rounding == COUNT_ROUNDING


def test_reliability_count_ties_go_to_the_earlier_cell(study):
    """n=7: one left after one per cell; VIPP-PMH and usual-care baseline tie at 4/14, the earlier (VIPP-PMH) gets
    it."""
    add_recordings(study.store, play_videos())

    summary = draw_reliability(study.store, seed=3, n=7, actor="pi.one")

    drawn = {label: s["drawn"] for label, s in summary.strata.items()}
    assert drawn == {
        "VIPP-PMH x baseline": 2,
        "VIPP-PMH x month 5": 1,
        "VIPP-PMH x month 8": 1,
        "usual care x baseline": 1,
        "usual care x month 5": 1,
        "usual care x month 8": 1,
    }


def test_reliability_n_below_the_number_of_cells_is_refused(study):
    """Six arm x timepoint cells cannot be covered by five recordings; nothing is stored."""
    add_recordings(study.store, play_videos())
    counts = row_counts(study.store)
    with pytest.raises(DrawError, match="cannot cover the 6 arm x timepoint cells; ask for at least 6"):
        draw_reliability(study.store, seed=3, n=5, actor="pi.one")
    assert row_counts(study.store) == counts


def test_reliability_draw_refuses_participants_without_an_arm_and_says_how_many(study):
    """Stratifying by arm with 3 unallocated videos is refused with that count."""
    add_recordings(study.store, play_videos(unallocated=3))
    counts = row_counts(study.store)
    with pytest.raises(DrawError, match="^3 recordings belong to participants with no arm yet"):
        draw_reliability(study.store, seed=3, n=8, actor="pi.one")
    assert row_counts(study.store) == counts


def test_draws_are_stored_whole_and_audited(study):
    """Seed, fraction, stratify, rounding, frame (sorted by manifest id), strata and creator are kept and logged."""
    rows = session_audio()
    add_recordings(study.store, rows)

    summary = draw_fidelity(study.store, fraction=0.10, seed=77, stratify=("clinician",), actor="pi.one")

    with study.store.read() as db:
        draw = db.get(Draw, summary.draw_id)
        assert (draw.purpose, draw.seed, draw.fraction, draw.n, draw.stratify) == (
            "fidelity",
            77,
            0.10,
            None,
            ["clinician"],
        )
        assert draw.rounding == FRACTION_ROUNDING
        assert external_ids(study.store, draw.frame) == sorted(r["recording_id"] for r in rows)
        assert draw.strata == summary.strata
        assert draw.created_by == "pi.one" and draw.created_at is not None and draw.tops_up is None
        assert len(db.scalars(select(Draw)).all()) == 1
    [entry] = audit_rows(study.store, "draw.create")
    assert (entry.actor, entry.entity_id) == ("pi.one", str(summary.draw_id))
    logged = {k: entry.new[k] for k in ("purpose", "seed", "fraction", "stratify", "frame_size", "drawn")}
    assert logged == {
        "purpose": "fidelity",
        "seed": 77,
        "fraction": 0.10,
        "stratify": ["clinician"],
        "frame_size": 44,
        "drawn": 6,
    }


@pytest.mark.parametrize("seed", [2**31, 2**63 - 1])
def test_a_seed_beyond_32_bits_is_stored_and_reproduced(study, seed):
    """Seeds are arbitrary non-negative integers (assignment seeds are 63-bit): a draw keeps any of them."""
    add_recordings(study.store, session_audio())
    summary = draw_fidelity(study.store, fraction=0.10, seed=seed, actor="pi.one")
    with study.store.read() as db:
        assert db.get(Draw, summary.draw_id).seed == seed
