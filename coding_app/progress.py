"""How far coding has got: per coder and scale, assigned, in progress, submitted, left."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select

from .accounts import require_role
from .store import Store
from .store.models import Account, Assignment, AssignmentScale, Rating, Recording, ScaleRow

STATUSES = ("not started", "draft", "submitted")


def coder_progress(store: Store, pi: Account) -> pd.DataFrame:
    """One row per coder and scale: assigned, in progress (draft), submitted, left."""
    require_role(pi, "pi")
    latest = (
        select(Rating.assignment_id, Rating.scale_id, func.max(Rating.version).label("version"))
        .group_by(Rating.assignment_id, Rating.scale_id)
        .subquery()
    )
    status = (
        select(Rating.assignment_id, Rating.scale_id, Rating.status)
        .join(latest, (Rating.assignment_id == latest.c.assignment_id) & (Rating.scale_id == latest.c.scale_id)
              & (Rating.version == latest.c.version))
        .subquery()
    )  # fmt: skip
    with store.read() as db:
        rows = db.execute(
            select(Account.name, Account.role, ScaleRow.key, status.c.status, func.count())
            .select_from(AssignmentScale)
            .join(Assignment, Assignment.id == AssignmentScale.assignment_id)
            .join(Account, Account.id == Assignment.account_id)
            .join(ScaleRow, ScaleRow.id == AssignmentScale.scale_id)
            .join(Recording, Recording.id == Assignment.recording_id)
            .outerjoin(status, (status.c.assignment_id == AssignmentScale.assignment_id)
                       & (status.c.scale_id == AssignmentScale.scale_id))
            .group_by(Account.name, Account.role, ScaleRow.key, status.c.status)
        ).all()  # fmt: skip
    counts = pd.DataFrame([tuple(r) for r in rows], columns=["coder", "role", "scale", "status", "count"])
    counts["status"] = counts["status"].fillna("not started")
    table = (
        counts.pivot_table(index=["coder", "role", "scale"], columns="status", values="count", aggfunc="sum", fill_value=0)
        .reindex(columns=list(STATUSES), fill_value=0)
        .rename(columns={"draft": "in_progress"})
    )
    table.columns.name = None
    table.insert(0, "assigned", table.sum(axis=1))
    table["left"] = table["assigned"] - table["submitted"]
    return table.drop(columns="not started").reset_index()
