"""Who codes which recordings on which scales, in an order drawn at random for each coder.

A random order per coder keeps the queue from following visit order (which would hint at the
timepoint). Every recording added to a queue, by whatever route (:func:`assign`, a ratings
import), goes in through :func:`enqueue`, which shuffles it among the recordings the coder has
not started; what they have started or submitted stays put.

Fidelity coding is a random draw of the session audio: once a fidelity draw exists, audio
assigned without naming recordings means that draw, every session only when asked for by name
(``all``), and an assignment outside the draw is said out loud (:attr:`AssignmentSummary.warnings`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.orm import Session

from reliability import resolve_seed

from . import audit
from .accounts import ROLE_FOR_KIND
from .certification import training_recordings, uncertified
from .codebook import KINDS, RecordingKind
from .errors import NotFound
from .exclusions import in_coding
from .sampling import DRAW_KINDS, draw_members, drawn
from .store import Store
from .store.models import (
    Account,
    Assignment,
    AssignmentScale,
    Draw,
    Flag,
    MasterCode,
    Note,
    PrimaryCoder,
    Rating,
    Recording,
    ScaleRow,
)
from .study import study_codebook

# The draw that a kind's coding is meant for, once one exists.
DESIGN_DRAW = {"audio": "fidelity"}
SELECTORS = "all, unassigned, training, draw:N, or comma-separated codes"


class AssignmentError(ValueError):
    """An assignment that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class AssignmentSummary:
    seed: int
    added: dict[str, int]
    """Per coder: recordings newly in their queue."""
    kind: str = "video"
    chosen: str = "all"
    """Which recordings, in words ("the fidelity draw", "all", "draw:2", ...)."""
    outside_draw: dict[str, int] = field(default_factory=dict)
    """Per coder: recordings newly queued that the design's draw did not choose."""
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UnassignSummary:
    removed: int
    warnings: list[str] = field(default_factory=list)


def _kind(db: Session, kind: str | None, which: str | None) -> str:
    """The kind of recording asked for: a draw gives its own (a contradicting ``kind`` is refused); else ``kind``,
    default video."""
    number = (which or "").removeprefix("draw:")
    draw = db.get(Draw, int(number)) if which != number and number.isdigit() else None
    if draw is None:
        return kind or "video"
    own = DRAW_KINDS[draw.purpose]
    if kind is not None and kind != own:
        raise AssignmentError(
            f"draw {number} is a {draw.purpose} draw, not of {kind} recordings: "
            f"its recordings are {own}, so leave out --kind"
        )
    return own


def _recordings(db: Session, kind: str, which: str | None) -> tuple[list[int], str]:
    """The recording ids ``which`` names that are still coded, and the choice in words: a recording excluded
    from the study (:mod:`coding_app.exclusions`) never enters a queue again, and naming one is refused."""
    ids, said = _named(db, kind, which)
    coded = set(db.scalars(select(Recording.id).where(Recording.id.in_(ids), in_coding(Recording.id))))
    left = [i for i in ids if i not in coded]
    if left and which is not None and which not in ("all", "unassigned", "training") and not which.startswith("draw:"):
        raise AssignmentError(f"excluded from the study, so not assigned: {_codes(db, set(left))}")
    return [i for i in ids if i in coded], said


def _named(db: Session, kind: str, which: str | None) -> tuple[list[int], str]:
    """The recording ids ``which`` names, and the choice in words.

    ``which`` is ``all``, ``unassigned``, ``training``, ``draw:N`` or comma-separated recording
    codes; None is the design's draw for ``kind`` once one exists (:data:`DESIGN_DRAW`), else all.
    """
    if which is None:
        members = drawn(db, DESIGN_DRAW[kind]) if kind in DESIGN_DRAW else None
        if members is not None:
            return sorted(members), f"the {DESIGN_DRAW[kind]} draw"
        which = "all"
    if which == "all":
        return list(
            db.scalars(select(Recording.id).where(Recording.kind == kind).order_by(Recording.id))
        ), f"all {kind} recordings"
    if which == "unassigned":
        taken = select(Assignment.recording_id)
        query = select(Recording.id).where(Recording.kind == kind, Recording.id.not_in(taken)).order_by(Recording.id)
        return list(db.scalars(query)), f"the unassigned {kind} recordings"
    if which == "training":
        training = select(MasterCode.recording_id)
        return list(
            db.scalars(
                select(Recording.id).where(Recording.kind == kind, Recording.id.in_(training)).order_by(Recording.id)
            )
        ), "the training set"
    if which.startswith("draw:"):
        number = which.removeprefix("draw:")
        if not number.isdigit():
            raise AssignmentError(f"{which!r}: a draw is named draw:NUMBER")
        return draw_members(db, int(number)), f"draw {number}"
    codes = [c.strip() for c in which.split(",") if c.strip()]
    found = dict(
        db.execute(select(Recording.code, Recording.id).where(Recording.code.in_(codes), Recording.kind == kind)).all()
    )
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise AssignmentError(f"no {kind} recording with code {', '.join(unknown)}")
    return [found[c] for c in codes], "recordings " + ", ".join(codes)


def _outside_draw(db: Session, kind: str) -> set[int] | None:
    """The live recordings of ``kind`` its design's draw did not choose; None while there is no such draw."""
    members = drawn(db, DESIGN_DRAW[kind]) if kind in DESIGN_DRAW else None
    if members is None:
        return None
    live = set(db.scalars(select(Recording.id).where(Recording.kind == kind))) - training_recordings(db)
    return live - members


def _codes(db: Session, recording_ids: set[int]) -> str:
    return ", ".join(db.scalars(select(Recording.code).where(Recording.id.in_(recording_ids)).order_by(Recording.code)))


def enqueue(
    db: Session, account_id: int, recording_ids: Sequence[int], rng: np.random.Generator | None = None
) -> list[Assignment]:
    """Put recordings in a coder's queue, each at a random place among the ones not started yet.

    Each addition is one step of an inside-out Fisher-Yates shuffle: the newcomer takes the
    place of a recording drawn at random from the coder's unstarted ones (or the new last
    place), and the one it displaced moves to the new last place. However the recordings arrive
    (import order often follows visit order), the unstarted part of the queue stays in uniformly
    random order; a recording with any rating (draft or submitted) never moves. Positions stay
    1..n, with gaps where :func:`unassign` took recordings out. A recording with no primary coder
    yet gets this coder as its primary (the first coder assigned; see :func:`assign` to name one). Returns the new
    assignments, flushed.
    """
    rng = np.random.default_rng() if rng is None else rng
    unstarted = ~exists().where(Rating.assignment_id == Assignment.id)
    # (id, position) only: a ratings import calls this once per row, on queues of thousands.
    waiting = [
        tuple(r)
        for r in db.execute(
            select(Assignment.id, Assignment.position)
            .where(Assignment.account_id == account_id, unstarted)
            .order_by(Assignment.position)
        )
    ]
    last = db.scalar(select(func.max(Assignment.position)).where(Assignment.account_id == account_id)) or 0
    added = []
    for recording_id in recording_ids:
        last += 1
        place = int(rng.integers(len(waiting) + 1))
        swap = place < len(waiting)
        position = waiting[place][1] if swap else last
        if swap:
            # The displaced one leaves its place before the newcomer takes it: positions are unique per
            # coder, checked on every statement by both SQLite and PostgreSQL.
            db.execute(update(Assignment).where(Assignment.id == waiting[place][0]).values(position=last))
            waiting.append((waiting[place][0], last))
        assignment = Assignment(account_id=account_id, recording_id=int(recording_id), position=position)
        db.add(assignment)
        if db.get(PrimaryCoder, int(recording_id)) is None:
            db.add(PrimaryCoder(recording_id=int(recording_id), account_id=account_id, named=False))
        db.flush()
        if swap:
            waiting[place] = (assignment.id, position)
        else:
            waiting.append((assignment.id, position))
        added.append(assignment)
    return added


def _name_primary(db: Session, account: Account | None, name: str, pool: list[int]) -> None:
    """Make ``account`` the primary coder of the live recordings in ``pool`` that have none; refused if any has another.

    Training recordings are left out: they are never analysed.
    """
    if account is None:
        raise AssignmentError(f"the primary coder {name!r} must be one of the coders assigned")
    pool = sorted(set(pool) - training_recordings(db))
    named = dict(
        db.execute(
            select(PrimaryCoder.recording_id, Account.name)
            .join(Account, Account.id == PrimaryCoder.account_id)
            .where(PrimaryCoder.recording_id.in_(pool))
        ).all()
    )
    taken = [r for r, who in named.items() if who != name]
    if taken:
        codes = db.scalars(select(Recording.code).where(Recording.id.in_(taken)).order_by(Recording.code)).all()
        raise AssignmentError(
            f"{', '.join(codes)} already ha{'ve' if len(codes) > 1 else 's'} another primary coder; "
            "a primary coder is never changed"
        )
    db.add_all(PrimaryCoder(recording_id=r, account_id=account.id, named=True) for r in pool if r not in named)
    db.flush()


def _coders(db: Session, names: list[str], kind: str) -> list[Account]:
    """The active accounts named, each with the role that codes ``kind``."""
    accounts = []
    for name in names:
        account = db.scalar(select(Account).where(Account.name == name))
        if account is None or not account.active:
            raise NotFound(f"no active account named {name!r}")
        if not account.has_role(ROLE_FOR_KIND[kind]):
            raise AssignmentError(
                f"{name} has the {account.role_text} role; {kind} recordings go to {ROLE_FOR_KIND[kind]} accounts"
            )
        accounts.append(account)
    return accounts


def _chosen(db: Session, kind: str | None, recordings: str | None) -> tuple[RecordingKind, list[int], str]:
    """(kind, recording ids, the choice in words) for an assignment or its undoing."""
    kind = _kind(db, kind, recordings)
    if kind not in KINDS:
        raise AssignmentError(f"kind must be video or audio, not {kind!r}")
    pool, chosen = _recordings(db, kind, recordings)
    if not pool:
        raise AssignmentError(f"no {kind} recordings match {recordings or 'all'!r}")
    return kind, pool, chosen


def assign(
    store: Store,
    coders: list[str],
    *,
    kind: str | None = None,
    recordings: str | None = None,
    scales: list[str] | None = None,
    split: bool = False,
    seed: int | None = None,
    actor: str,
    primary: str | None = None,
) -> AssignmentSummary:
    """Put recordings in coders' queues on the given scales (default: every scale for ``kind``).

    ``recordings`` as :func:`_recordings` reads it: by default the fidelity draw for audio once
    one exists, else every recording of the kind. ``kind`` defaults to the draw's own kind for
    ``draw:N`` (a contradicting one is refused), else video. Recordings queued outside the
    fidelity draw are counted in the summary and warned about.

    Without ``split`` every coder gets every recording (double coding); with it the recordings
    none of them has yet are dealt out evenly. A recording already in a coder's queue only
    gains any missing scales. On a scale with a training set, live (non-training) recordings go
    only to coders certified on it.

    ``primary`` (one of ``coders``) is named the primary coder of these recordings: the one whose
    score counts under the codebook's analysis rule. Without it a recording's primary is the first
    coder it is assigned to. A primary is fixed before any score is seen: naming another for a
    recording that has one is refused.
    """
    if primary is not None and split:
        raise AssignmentError(
            "--primary names whose score counts where every coder codes every recording; "
            "with --split each has one coder"
        )
    if seed is not None and seed < 0:
        raise AssignmentError(f"a seed is a whole number of at least 0, not {seed}")
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    with store.write() as db:
        kind, pool, chosen = _chosen(db, kind, recordings)
        codebook = study_codebook(db)
        keys = scales or [s.key for s in codebook.for_kind(kind)]
        for key in keys:
            if codebook[key].kind != kind:
                raise AssignmentError(f"scale {key!r} rates {codebook[key].kind} recordings, not {kind}")
        scale_ids = list(db.scalars(select(ScaleRow.id).where(ScaleRow.key.in_(keys))))
        accounts = _coders(db, coders, kind)
        if primary is not None:
            _name_primary(db, next((a for a in accounts if a.name == primary), None), primary, pool)
        if set(pool) - training_recordings(db):
            not_yet = uncertified(db, accounts, scale_ids)
            if not_yet:
                raise AssignmentError("; ".join(not_yet))
        existing = {
            (a.account_id, a.recording_id): a
            for a in db.scalars(select(Assignment).where(Assignment.account_id.in_([a.id for a in accounts])))
        }
        if split:
            fresh = [r for r in pool if not any((a.id, r) in existing for a in accounts)]
            dealt = rng.permutation(fresh)
            shares = {a.id: [int(r) for r in dealt[i :: len(accounts)]] for i, a in enumerate(accounts)}
        else:
            shares = {a.id: pool for a in accounts}
        outside = _outside_draw(db, kind) or set()
        added, outside_draw, warnings = {}, {}, []
        for account in accounts:
            new = [r for r in shares[account.id] if (account.id, r) not in existing]
            for assignment in enqueue(db, account.id, new, rng):
                existing[(account.id, assignment.recording_id)] = assignment
            for recording_id in shares[account.id]:
                assignment = existing[(account.id, recording_id)]
                have = set(
                    db.scalars(select(AssignmentScale.scale_id).where(AssignmentScale.assignment_id == assignment.id))
                )
                db.add_all(AssignmentScale(assignment_id=assignment.id, scale_id=s) for s in scale_ids if s not in have)
            added[account.name] = len(new)
            beyond = outside.intersection(new)
            outside_draw[account.name] = len(beyond)
            if beyond:
                warnings.append(
                    f"{account.name}: {len(beyond)} of these {kind} recordings are outside the "
                    f"{DESIGN_DRAW[kind]} draw, which is what {DESIGN_DRAW[kind]} coding is meant for; "
                    f"to undo: obscode unassign {account.name} --kind {kind} "
                    f"--recordings {_codes(db, beyond).replace(', ', ',')}"
                )
            audit.record(
                db,
                actor,
                "assignment.add",
                "account",
                account.name,
                new={
                    "recordings": len(new),
                    "scales": keys,
                    "kind": kind,
                    "from": chosen,
                    "split": split,
                    "seed": seed,
                    "primary": primary,
                    "outside_draw": outside_draw[account.name],
                },
            )
    return AssignmentSummary(seed, added, kind, chosen, outside_draw, warnings)


def unassign(store: Store, coder: str, *, kind: str | None = None, recordings: str, actor: str) -> UnassignSummary:
    """Take recordings the coder has not started out of their queue; all or nothing, audited.

    ``recordings`` as for :func:`assign` (``all``: every one of the kind in their queue). Refused
    for any the coder has started (a draft, a submitted rating, notes or a flag): ratings are
    never deleted, so started work stays where it is. A recording whose primary coder was named
    for this coder (``assign --primary``) is refused too; one they are primary of as its first
    coder keeps them as primary (a primary never changes), which the warnings say.
    """
    with store.write() as db:
        kind, pool, chosen = _chosen(db, kind, recordings)
        [account] = _coders(db, [coder], kind)
        queued = dict(
            db.execute(
                select(Assignment.recording_id, Assignment.id).where(
                    Assignment.account_id == account.id, Assignment.recording_id.in_(pool)
                )
            ).all()
        )
        if not queued:
            raise AssignmentError(f"nothing to unassign: {coder}'s queue has none of these ({chosen})")
        started = set(
            db.scalars(
                select(Assignment.recording_id).where(
                    Assignment.id.in_(queued.values()),
                    exists().where(Rating.assignment_id == Assignment.id)
                    | exists().where(Note.assignment_id == Assignment.id)
                    | exists().where(Flag.assignment_id == Assignment.id),
                )
            )
        )
        if started:
            raise AssignmentError(
                f"{coder} has started {_codes(db, started)} (a draft, a rating, notes or a flag): "
                "started work is kept, so nothing was unassigned"
            )
        primaries = dict(
            db.execute(
                select(PrimaryCoder.recording_id, PrimaryCoder.named).where(
                    PrimaryCoder.account_id == account.id, PrimaryCoder.recording_id.in_(queued)
                )
            ).all()
        )
        named = {r for r, was_named in primaries.items() if was_named}
        if named:
            raise AssignmentError(
                f"{coder} was named the primary coder of {_codes(db, named)} (whose score counts), "
                "and a primary never changes: nothing was unassigned"
            )
        db.execute(delete(AssignmentScale).where(AssignmentScale.assignment_id.in_(queued.values())))
        db.execute(delete(Assignment).where(Assignment.id.in_(queued.values())))
        warnings = []
        if primaries:
            warnings.append(
                f"{coder} stays the primary coder of {len(primaries)} of them (the first coder assigned; "
                "a primary never changes): only their score, or a consensus rating, counts for those"
            )
        audit.record(
            db,
            actor,
            "assignment.remove",
            "account",
            coder,
            old={"recordings": len(queued), "kind": kind, "from": recordings, "still_primary": len(primaries)},
        )
    return UnassignSummary(len(queued), warnings)
