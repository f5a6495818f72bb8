"""Who codes which recordings on which scales, in an order drawn at random for each coder.

A random order per coder keeps the queue from following visit order (which would hint at the
timepoint). Every recording added to a queue, by whatever route (:func:`assign`, a ratings
import), goes in through :func:`enqueue`, which shuffles it among the recordings the coder has
not started; what they have started or submitted stays put.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from reliability.bootstrap import resolve_seed

from . import audit
from .accounts import ROLE_FOR_KIND
from .certification import training_recordings, uncertified
from .errors import NotFound
from .sampling import draw_members
from .store import Store
from .store.models import Account, Assignment, AssignmentScale, Draw, MasterCode, PrimaryCoder, Rating, Recording, ScaleRow
from .study import study_codebook


class AssignmentError(ValueError):
    """An assignment that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class AssignmentSummary:
    seed: int
    added: dict[str, int]
    """Per coder: recordings newly in their queue."""


def _recordings(db: Session, kind: str, which: str) -> list[int]:
    """``all``, ``unassigned``, ``training``, ``draw:N`` or comma-separated recording codes."""
    if which == "all":
        return list(db.scalars(select(Recording.id).where(Recording.kind == kind).order_by(Recording.id)))
    if which == "unassigned":
        taken = select(Assignment.recording_id)
        query = select(Recording.id).where(Recording.kind == kind, Recording.id.not_in(taken)).order_by(Recording.id)
        return list(db.scalars(query))
    if which == "training":
        training = select(MasterCode.recording_id)
        return list(db.scalars(select(Recording.id).where(Recording.kind == kind, Recording.id.in_(training)).order_by(Recording.id)))
    if which.startswith("draw:"):
        number = which.removeprefix("draw:")
        if not number.isdigit():
            raise AssignmentError(f"{which!r}: a draw is named draw:NUMBER")
        draw = db.get(Draw, int(number))
        if draw is not None and (draw.purpose == "fidelity") != (kind == "audio"):
            raise AssignmentError(f"draw {number} is a {draw.purpose} draw, not of {kind} recordings")
        return draw_members(db, int(number))
    codes = [c.strip() for c in which.split(",") if c.strip()]
    found = dict(db.execute(select(Recording.code, Recording.id).where(Recording.code.in_(codes), Recording.kind == kind)).all())
    unknown = [c for c in codes if c not in found]
    if unknown:
        raise AssignmentError(f"no {kind} recording with code {', '.join(unknown)}")
    return [found[c] for c in codes]


def enqueue(db: Session, account_id: int, recording_ids: Sequence[int], rng: np.random.Generator | None = None) -> list[Assignment]:
    """Put recordings in a coder's queue, each at a random place among the ones not started yet.

    Each addition is one step of an inside-out Fisher-Yates shuffle: the newcomer takes the
    place of a recording drawn at random from the coder's unstarted ones (or the new last
    place), and the one it displaced moves to the new last place. However the recordings arrive
    (import order often follows visit order), the unstarted part of the queue stays in uniformly
    random order; a recording with any rating (draft or submitted) never moves. Positions stay
    1..n. A recording with no primary coder yet gets this coder as its primary (the first coder
    assigned; see :func:`assign` to name one). Returns the new assignments, flushed.
    """
    rng = np.random.default_rng() if rng is None else rng
    unstarted = ~exists().where(Rating.assignment_id == Assignment.id)
    # (id, position) only: a ratings import calls this once per row, on queues of thousands.
    waiting = [tuple(r) for r in db.execute(select(Assignment.id, Assignment.position)
                                            .where(Assignment.account_id == account_id, unstarted).order_by(Assignment.position))]  # fmt: skip
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
    named = dict(db.execute(select(PrimaryCoder.recording_id, Account.name).join(Account, Account.id == PrimaryCoder.account_id)
                            .where(PrimaryCoder.recording_id.in_(pool))).all())  # fmt: skip
    taken = [r for r, who in named.items() if who != name]
    if taken:
        codes = db.scalars(select(Recording.code).where(Recording.id.in_(taken)).order_by(Recording.code)).all()
        raise AssignmentError(f"{', '.join(codes)} already ha{'ve' if len(codes) > 1 else 's'} another primary coder; "
                              "a primary coder is never changed")  # fmt: skip
    db.add_all(PrimaryCoder(recording_id=r, account_id=account.id, named=True) for r in pool if r not in named)
    db.flush()


def assign(
    store: Store, coders: list[str], *, kind: str, recordings: str = "all", scales: list[str] | None = None,
    split: bool = False, seed: int | None = None, actor: str, primary: str | None = None,
) -> AssignmentSummary:  # fmt: skip
    """Put recordings in coders' queues on the given scales (default: every scale for ``kind``).

    Without ``split`` every coder gets every recording (double coding); with it the recordings
    none of them has yet are dealt out evenly. A recording already in a coder's queue only
    gains any missing scales. On a scale with a training set, live (non-training) recordings go
    only to coders certified on it.

    ``primary`` (one of ``coders``) is named the primary coder of these recordings: the one whose
    score counts under the codebook's analysis rule. Without it a recording's primary is the first
    coder it is assigned to. A primary is fixed before any score is seen: naming another for a
    recording that has one is refused.
    """
    if kind not in ROLE_FOR_KIND:
        raise AssignmentError(f"kind must be video or audio, not {kind!r}")
    if primary is not None and split:
        raise AssignmentError("--primary names whose score counts where every coder codes every recording; with --split each has one coder")
    if seed is not None and seed < 0:
        raise AssignmentError(f"a seed is a whole number of at least 0, not {seed}")
    seed = resolve_seed(seed)
    rng = np.random.default_rng(seed)
    with store.write() as db:
        codebook = study_codebook(db)
        keys = scales or [s.key for s in codebook.for_kind(kind)]
        for key in keys:
            if codebook[key].kind != kind:
                raise AssignmentError(f"scale {key!r} rates {codebook[key].kind} recordings, not {kind}")
        scale_ids = list(db.scalars(select(ScaleRow.id).where(ScaleRow.key.in_(keys))))
        accounts = []
        for name in coders:
            account = db.scalar(select(Account).where(Account.name == name))
            if account is None or not account.active:
                raise NotFound(f"no active account named {name!r}")
            if account.role != ROLE_FOR_KIND[kind]:
                raise AssignmentError(f"{name} has the {account.role} role; {kind} recordings go to {ROLE_FOR_KIND[kind]} accounts")
            accounts.append(account)
        pool = _recordings(db, kind, recordings)
        if not pool:
            raise AssignmentError(f"no {kind} recordings match {recordings!r}")
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
        added = {}
        for account in accounts:
            new = [r for r in shares[account.id] if (account.id, r) not in existing]
            for assignment in enqueue(db, account.id, new, rng):
                existing[(account.id, assignment.recording_id)] = assignment
            for recording_id in shares[account.id]:
                assignment = existing[(account.id, recording_id)]
                have = set(db.scalars(select(AssignmentScale.scale_id).where(AssignmentScale.assignment_id == assignment.id)))
                db.add_all(AssignmentScale(assignment_id=assignment.id, scale_id=s) for s in scale_ids if s not in have)
            added[account.name] = len(new)
            audit.record(db, actor, "assignment.add", "account", account.name,
                         new={"recordings": len(new), "scales": keys, "kind": kind, "from": recordings,
                              "split": split, "seed": seed, "primary": primary})  # fmt: skip
    return AssignmentSummary(seed, added)
