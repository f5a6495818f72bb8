"""How far coding has got: per coder and scale, assigned, in progress, submitted, flagged, excluded, left."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import case, func, select

from . import audit
from .accounts import ROLE_FOR_KIND, require_role
from .exclusions import in_coding
from .flags import open_on
from .media import MediaStore
from .store import Store
from .store.models import Account, Assignment, AssignmentScale, Rating, Recording, ScaleRow, latest_rating

STATUSES = ("not started", "draft", "submitted", "flagged", "excluded")
"""Of an assigned scale: its latest rating's status, unless the recording is flagged by its coder (waiting for the
PI) or excluded from the study."""


@audit.refusals("refused.progress", "progress")
def coder_progress(store: Store, pi: Account) -> pd.DataFrame:
    """One row per coder and scale: assigned, in progress (draft), submitted, flagged (waiting for the PI),
    excluded from the study, left (still to code: neither submitted, flagged nor excluded). Scales by label."""
    require_role(pi, "pi")
    status = (
        select(Rating.status)
        .where(Rating.assignment_id == AssignmentScale.assignment_id, Rating.scale_id == AssignmentScale.scale_id)
        .where(latest_rating())
        .scalar_subquery()
    )
    state = case((~in_coding(Assignment.recording_id), "excluded"), (open_on(Assignment.id), "flagged"), else_=status)
    assigned = (
        select(
            Account.name, case(ROLE_FOR_KIND, value=Recording.kind).label("role"), ScaleRow.label, state.label("status")
        )
        .select_from(AssignmentScale)
        .join(Assignment, Assignment.id == AssignmentScale.assignment_id)
        .join(Account, Account.id == Assignment.account_id)
        .join(ScaleRow, ScaleRow.id == AssignmentScale.scale_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .subquery()
    )
    with store.read() as db:
        rows = db.execute(select(*assigned.c, func.count()).group_by(*assigned.c)).all()
    counts = pd.DataFrame([tuple(r) for r in rows], columns=["coder", "role", "scale", "status", "count"])
    counts["status"] = counts["status"].fillna("not started")
    table = (
        counts.pivot_table(
            index=["coder", "role", "scale"], columns="status", values="count", aggfunc="sum", fill_value=0
        )
        .reindex(columns=list(STATUSES), fill_value=0)
        .rename(columns={"draft": "in_progress"})
    )
    table.columns.name = None
    table.insert(0, "assigned", table.sum(axis=1))
    table["left"] = table["assigned"] - table["submitted"] - table["flagged"] - table["excluded"]
    return table.drop(columns="not started").reset_index()


@audit.refusals("refused.progress", "progress")
def missing_media(store: Store, pi: Account, media: MediaStore) -> pd.DataFrame:
    """Assigned recordings still in coding whose media file is not in the media folder: code, kind, coders waiting
    on it (an excluded recording's file may be gone for good)."""
    require_role(pi, "pi")
    with store.read() as db:
        rows = db.execute(
            select(Recording.code, Recording.kind, Recording.media_name, func.count(Assignment.id))
            .join(Assignment, Assignment.recording_id == Recording.id)
            .where(in_coding(Recording.id))
            .group_by(Recording.code, Recording.kind, Recording.media_name)
            .order_by(Recording.code)
        ).all()
    missing = [(code, kind, coders) for code, kind, name, coders in rows if not media.path(name).is_file()]
    return pd.DataFrame(missing, columns=["code", "kind", "coders assigned"])
