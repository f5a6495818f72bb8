"""Has the study changed? The cursor PI reports are cached on.

Every change to a study writes an audit row in the transaction that makes it (ratings submitted,
imported or reopened, master codes, draws, consensus, recordings, allocation, assignments,
scales), so the newest audit row that records a change moves exactly when a report could. Rows
that record no change to what a report shows are passed over: reads (of the key, the log, an
export), sign-ins and refusals, and a coder's work in progress (drafts, notes). An action not
named here counts as a change: an unknown one costs a recomputation, never a stale report.
"""

from __future__ import annotations

from sqlalchemy import and_, select

from .store import Store
from .store.models import AuditEntry

_NOT_CHANGES = ("refused.", "login.", "logout", "unblind.", "audit.read", "export.", "rating.draft", "notes.")


def study_version(store: Store) -> int:
    """The id of the newest audit row that records a change to the study (0 before any).

    Walks the primary key down from the newest row, so it stops at the first change however long the log.
    """
    changes = and_(*(AuditEntry.action.not_like(f"{prefix}%") for prefix in _NOT_CHANGES))
    with store.read() as db:
        return db.scalar(select(AuditEntry.id).where(changes).order_by(AuditEntry.id.desc()).limit(1)) or 0
