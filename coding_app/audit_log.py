"""The PI's reading of the audit log (:mod:`coding_app.audit` writes it).

The log names who unblinded what and why, so reading it is for the PI only, and is itself audited.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from . import audit
from .accounts import require_role
from .store import Store
from .store.models import Account, AuditEntry


@audit.refusals("refused.audit", "audit")
def audit_entries(store: Store, pi: Account) -> pd.DataFrame:
    """The whole audit log, oldest first (reading it is itself audited)."""
    require_role(pi, "pi")
    with store.write() as db:
        entries = db.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        table = pd.DataFrame(
            [(e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.old, e.new, e.reason) for e in entries],
            columns=["id", "at", "actor", "action", "entity", "entity_id", "old", "new", "reason"],
        )
        audit.record(db, pi.name, "audit.read", "audit", None, new={"rows": len(table)})
    return table
