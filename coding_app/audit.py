"""The audit log: who did what, when, to what, with old and new values and the reason.

Rows are only ever added (the database refuses updates and deletes). Reading the log is for
the PI: see :func:`coding_app.unblinding.audit_entries`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from .store.models import AuditEntry


def _plain(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in values.items()}


def record(
    db: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Add one audit row to the session's transaction: it is kept exactly when the change is."""
    db.add(
        AuditEntry(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            old=_plain(old),
            new=_plain(new),
            reason=reason,
        )
    )
