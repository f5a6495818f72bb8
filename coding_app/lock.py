"""The database lock: the PI closes coding for the whole study or for one scale, before unblinding.

While a scale is closed (by its own lock or the study's) nothing changes its scores: no draft,
notes, submission, reopening, consensus rating or ratings import (each refused by
:func:`refuse_closed`, called where that change is made). Unlocking needs a reason. Locks and
unlocks are rows of an append-only history (database triggers) and audit rows; the history is
the report of what was locked, when and by whom.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import ColumnElement, SQLColumnExpression, exists, select, text
from sqlalchemy.orm import Session, aliased

from . import audit
from .accounts import require_role
from .errors import NotFound
from .store import Store
from .store.models import Account, CodingLock, ScaleRow

STUDY = "the whole study"
TABLE = CodingLock.__tablename__
"""Held in SHARE mode by a change that checks the lock (PostgreSQL): a lock or unlock waits for it, and it for them."""


class CodingClosed(ValueError):
    """Refused: coding of this scale is closed by the database lock."""


@dataclass(frozen=True)
class Lock:
    """A lock in force: its scope (a scale key, or None for the whole study), when and by whom."""

    scale: str | None
    at: datetime
    by: str

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """Scope, when and by whom; ``labels`` names a scale as people read it (a coder), else by its key."""
        scope = STUDY if self.scale is None else (labels or {}).get(self.scale, self.scale)
        return f"{scope} locked on {self.at:%Y-%m-%d %H:%M} UTC by {self.by}"


def in_force() -> ColumnElement[bool]:
    """True for a lock row that stands: a lock with no later row (lock or unlock) of its scope."""
    later = aliased(CodingLock)
    return (CodingLock.action == "lock") & ~exists().where(
        later.id > CodingLock.id, later.scale_id.is_not_distinct_from(CodingLock.scale_id)
    )


def closed(scale_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """True where the scale ``scale_id`` is closed by its own lock or the study's: for a query that asks along the way
    (:func:`refuse_closed` says by which lock)."""
    return exists().where(in_force(), CodingLock.scale_id.is_(None) | (CodingLock.scale_id == scale_id))


def _history(db: Session, scale_ids: Iterable[int] | None = None) -> list[tuple[CodingLock, str | None, bool]]:
    """Every lock and unlock, oldest first, with its scale key and whether it stands; with ``scale_ids``, only the
    study's and those scales'."""
    query = (
        select(CodingLock, ScaleRow.key, in_force())
        .outerjoin(ScaleRow, ScaleRow.id == CodingLock.scale_id)
        .order_by(CodingLock.id)
    )
    if scale_ids is not None:
        query = query.where(CodingLock.scale_id.is_(None) | CodingLock.scale_id.in_(list(scale_ids)))
    return [(lock, key, standing) for lock, key, standing in db.execute(query)]


def locks_in_force(db: Session, scale_ids: Iterable[int] | None = None) -> dict[str | None, Lock]:
    """Every scope now closed, by scale key (None: the whole study); with ``scale_ids``, of the study and those
    scales."""
    return {key: Lock(key, row.at, row.by) for row, key, standing in _history(db, scale_ids) if standing}


def closing(db: Session, scale_keys: Iterable[str]) -> dict[str, Lock]:
    """The lock that closes each of these scales, for those that are closed."""
    locks = locks_in_force(db)
    found = {key: locks.get(None) or locks.get(key) for key in scale_keys}
    return {key: lock for key, lock in found.items() if lock is not None}


def refuse_closed(db: Session, scale_ids: Iterable[int], what: str = "coding") -> None:
    """Raise :class:`CodingClosed` if any of these scales is closed, in the transaction about to change them."""
    if db.get_bind().dialect.name == "postgresql":
        # SHARE conflicts with the lock's insert, not with other coders' SHARE: a lock waits for the changes
        # already past this check to commit, and a change checked after a lock began waits for it and sees it.
        # (SQLite's writers are serialised whole already.)
        db.execute(text(f"LOCK TABLE {TABLE} IN SHARE MODE"))
    # One statement: a draft save is counted in round trips (tests/faults/test_round_trips.py).
    locks = locks_in_force(db, scale_ids)
    if locks:
        closed = (
            [locks[None]] if None in locks else [locks[key] for key in sorted(key for key in locks if key is not None)]
        )
        raise CodingClosed(f"coding is closed: {what} refused ({'; '.join(lock.describe() for lock in closed)})")


def _scale(db: Session, scale_key: str | None) -> ScaleRow | None:
    if scale_key is None:
        return None
    scale = db.scalar(select(ScaleRow).where(ScaleRow.key == scale_key))
    if scale is None:
        raise NotFound(f"no scale {scale_key!r} in the study")
    return scale


def _scope(scale_key: str | None) -> str:
    return STUDY if scale_key is None else f"scale {scale_key}"


@audit.refusals("refused.lock", "coding_lock", entity_id="scale_key")
def lock(store: Store, pi: Account, scale_key: str | None = None, reason: str = "") -> Lock:
    """Close coding of one scale (or, with None, the whole study); refused if it is closed already."""
    require_role(pi, "pi")
    with store.write() as db:
        scale = _scale(db, scale_key)
        already = locks_in_force(db)
        if None in already or scale_key in already:
            raise ValueError(
                f"{_scope(scale_key)} is already closed ({(already.get(None) or already[scale_key]).describe()})"
            )
        row = CodingLock(action="lock", scale_id=None if scale is None else scale.id, reason=reason.strip(), by=pi.name)
        db.add(row)
        db.flush()
        audit.record(
            db,
            pi.name,
            "coding.lock",
            "coding_lock",
            row.id,
            new={"scope": _scope(scale_key)},
            reason=reason.strip() or None,
        )
        return Lock(scale_key, row.at, pi.name)


@audit.refusals("refused.lock", "coding_lock", entity_id="scale_key")
def unlock(store: Store, pi: Account, scale_key: str | None, reason: str) -> None:
    """Open coding again where a lock of exactly this scope stands; needs a reason."""
    require_role(pi, "pi")
    reason = reason.strip()
    if not reason:
        raise ValueError("unlocking needs a reason (kept in the lock's history and the audit log)")
    with store.write() as db:
        scale = _scale(db, scale_key)
        locks = locks_in_force(db)
        if scale_key not in locks:
            held = f"; {locks[None].describe()}: unlock the whole study" if None in locks else ""
            raise ValueError(f"{_scope(scale_key)} is not locked{held}")
        row = CodingLock(action="unlock", scale_id=None if scale is None else scale.id, reason=reason, by=pi.name)
        db.add(row)
        db.flush()
        audit.record(
            db, pi.name, "coding.unlock", "coding_lock", row.id, new={"scope": _scope(scale_key)}, reason=reason
        )


@audit.refusals("refused.lock", "coding_lock")
def lock_report(store: Store, pi: Account) -> pd.DataFrame:
    """What was locked and unlocked, when, by whom and why, oldest first; ``in_force`` marks the locks standing now."""
    require_role(pi, "pi")
    with store.read() as db:
        history = _history(db)
    rows = [
        (row.action, STUDY if key is None else key, row.at, row.by, row.reason, standing)
        for row, key, standing in history
    ]
    return pd.DataFrame(rows, columns=["action", "scope", "at", "by", "reason", "in_force"])
