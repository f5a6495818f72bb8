"""Reproducible sampling draws: the fidelity sample of session audio and the double-coded videos.

A draw is stored whole (seed, frame in the order used, strata, rounding rule, who, when), so
that it can be reported and re-drawn: the same seed on the same frame gives the same sample.
Recordings imported after a draw are sampled by a top-up draw over just those recordings;
earlier draws never change.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .certification import training_recordings
from .exclusions import in_coding
from .store import Store
from .store.models import Draw, DrawMember, Participant, Recording, RecordingKey

STRATIFIERS = ("site", "arm", "timepoint", "clinician", "session")
# The recordings each purpose draws from.
DRAW_KINDS = {"fidelity": "audio", "reliability": "video"}
FRACTION_ROUNDING = (
    "within each stratum, ceil(fraction x stratum size): every non-empty stratum gets at least "
    "one recording and at least the fraction, so the total can exceed fraction x frame size by "
    "less than one per stratum"
)
COUNT_ROUNDING = (
    "one per arm x timepoint cell, then the rest in proportion to what each cell has left "
    "(largest remainder, ties to the earlier cell)"
)


class DrawError(ValueError):
    """A draw that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class Candidate:
    recording_id: int
    external_id: str
    strata: dict[str, str]


@dataclass(frozen=True)
class DrawSummary:
    draw_id: int
    frame_size: int
    drawn: int
    strata: dict[str, dict[str, int]]


def _frame(db: Session, kind: str, excluded: set[int]) -> list[Candidate]:
    """Recordings of ``kind`` not in ``excluded``, not in the training set and not excluded from the study, in a
    stable order that does not depend on import order."""
    excluded = excluded | training_recordings(db)
    rows = db.execute(
        select(
            Recording.id,
            RecordingKey.external_id,
            Participant.site,
            Participant.arm,
            RecordingKey.timepoint,
            RecordingKey.clinician,
            RecordingKey.session,
        )
        .join(RecordingKey, RecordingKey.recording_id == Recording.id)
        .join(Participant, Participant.id == RecordingKey.participant_id)
        .where(Recording.kind == kind, in_coding(Recording.id))
    ).all()
    frame = [
        Candidate(r.id, r.external_id, {s: getattr(r, s) or "" for s in STRATIFIERS})
        for r in rows
        if r.id not in excluded
    ]
    return sorted(frame, key=lambda c: (c.external_id.casefold(), c.external_id))


def _earlier(db: Session, purpose: str) -> tuple[int | None, set[int]]:
    """The latest draw of this purpose and every recording any earlier draw had in its frame."""
    draws = db.scalars(select(Draw).where(Draw.purpose == purpose).order_by(Draw.id)).all()
    framed = {recording for d in draws for recording in d.frame}
    return (draws[-1].id if draws else None), framed


def _allocate_by_count(sizes: dict[str, int], n: int) -> dict[str, int]:
    """One per stratum, then the rest by largest remainder over each stratum's remaining size."""
    rest = n - len(sizes)
    spare = {s: size - 1 for s, size in sizes.items()}
    total = sum(spare.values())
    quotas = {s: rest * spare[s] / total if total else 0.0 for s in sizes}
    counts = {s: 1 + math.floor(q) for s, q in quotas.items()}
    leftover = n - sum(counts.values())
    by_remainder = sorted(sizes, key=lambda s: -(quotas[s] - math.floor(quotas[s])))
    for s in by_remainder[:leftover]:
        counts[s] += 1
    return counts


def _make_draw(
    store: Store,
    *,
    purpose: str,
    kind: str,
    seed: int,
    fraction: float | None,
    n: int | None,
    stratify: tuple[str, ...],
    top_up: bool,
    actor: str,
) -> DrawSummary:
    unknown = [s for s in stratify if s not in STRATIFIERS]
    if unknown:
        raise DrawError(f"cannot stratify by {', '.join(unknown)}: choose from {', '.join(STRATIFIERS)}")
    if seed < 0:
        raise DrawError(f"a seed is a whole number of at least 0, not {seed}")
    if fraction is not None and not 0 < fraction <= 1:
        raise DrawError(f"the fraction must be above 0 and at most 1, not {fraction:g}")
    with store.write() as db:
        latest, framed = _earlier(db, purpose)
        if latest is not None and not top_up:
            raise DrawError(
                f"a {purpose} draw exists already (draw {latest}); use --top-up to sample recordings imported since"
            )
        if top_up and latest is None:
            raise DrawError(f"there is no {purpose} draw to top up yet")
        frame = _frame(db, kind, framed if top_up else set())
        if not frame:
            raise DrawError(f"no {kind} recordings {'imported since the last draw' if top_up else 'in the study'}")
        if "arm" in stratify and any(not c.strata["arm"] for c in frame):
            missing = sum(not c.strata["arm"] for c in frame)
            raise DrawError(
                f"{missing} recordings belong to participants with no arm yet: import the allocation list first"
            )
        strata: dict[str, list[Candidate]] = {}
        for candidate in frame:
            strata.setdefault(" x ".join(candidate.strata[s] for s in stratify) or "all", []).append(candidate)
        sizes = {label: len(members) for label, members in strata.items()}
        if n is not None:
            if n < len(sizes):
                raise DrawError(
                    f"{n} recordings cannot cover the {len(sizes)} {' x '.join(stratify)} cells; "
                    f"ask for at least {len(sizes)}"
                )
            if n > len(frame):
                raise DrawError(f"cannot draw {n} recordings from {len(frame)}")
            counts = _allocate_by_count(sizes, n)
        else:
            assert fraction is not None  # the draw functions give n or fraction
            counts = {label: math.ceil(fraction * size - 1e-9) for label, size in sizes.items()}
        rng = np.random.default_rng(seed)
        chosen = [
            members[i].recording_id
            for label, members in strata.items()
            for i in sorted(rng.choice(len(members), size=counts[label], replace=False))
        ]
        draw = Draw(
            purpose=purpose,
            seed=seed,
            fraction=fraction,
            n=n,
            stratify=list(stratify),
            rounding=COUNT_ROUNDING if n is not None else FRACTION_ROUNDING,
            frame=[c.recording_id for c in frame],
            strata={label: {"size": sizes[label], "drawn": counts[label]} for label in strata},
            tops_up=latest if top_up else None,
            created_by=actor,
        )
        db.add(draw)
        db.flush()
        db.add_all(DrawMember(draw_id=draw.id, recording_id=r) for r in chosen)
        audit.record(
            db,
            actor,
            "draw.create",
            "draw",
            draw.id,
            new={
                "purpose": purpose,
                "seed": seed,
                "fraction": fraction,
                "n": n,
                "stratify": list(stratify),
                "frame_size": len(frame),
                "drawn": len(chosen),
                "tops_up": draw.tops_up,
            },
        )
        return DrawSummary(draw.id, len(frame), len(chosen), draw.strata)


def draw_fidelity(
    store: Store, *, fraction: float, seed: int, stratify: tuple[str, ...] = (), top_up: bool = False, actor: str
) -> DrawSummary:
    """Draw ``fraction`` of the session audio for fidelity coding, optionally within strata."""
    return _make_draw(
        store,
        purpose="fidelity",
        kind=DRAW_KINDS["fidelity"],
        seed=seed,
        fraction=fraction,
        n=None,
        stratify=stratify,
        top_up=top_up,
        actor=actor,
    )


def draw_reliability(
    store: Store, *, seed: int, n: int | None = None, fraction: float | None = None, top_up: bool = False, actor: str
) -> DrawSummary:
    """Draw the videos to double-code, so that every arm x timepoint cell is represented."""
    if (n is None) == (fraction is None):
        raise DrawError("give either --n or --fraction")
    if top_up and n is not None:
        raise DrawError("a top-up draws a fraction of the new recordings: give --fraction")
    return _make_draw(
        store,
        purpose="reliability",
        kind=DRAW_KINDS["reliability"],
        seed=seed,
        fraction=fraction,
        n=n,
        stratify=("arm", "timepoint"),
        top_up=top_up,
        actor=actor,
    )


def draw_members(db: Session, draw_id: int) -> list[int]:
    if db.get(Draw, draw_id) is None:
        raise DrawError(f"there is no draw {draw_id}")
    return list(db.scalars(select(DrawMember.recording_id).where(DrawMember.draw_id == draw_id)))


def drawn(db: Session, purpose: str) -> set[int] | None:
    """Every recording any draw of this purpose chose (top-ups too), or None while there is no such draw."""
    if db.scalar(select(Draw.id).where(Draw.purpose == purpose).limit(1)) is None:
        return None
    members = select(DrawMember.recording_id).join(Draw, Draw.id == DrawMember.draw_id).where(Draw.purpose == purpose)
    return set(db.scalars(members))
