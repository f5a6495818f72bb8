"""Recordings taken out of coding (:class:`~coding_app.store.models.Exclusion`): the one place that says which
recordings are still coded and whose ratings still count.

An exclusion (a PI's decision on a coder's flag, :mod:`coding_app.flags`; a participant's consent withdrawn)
takes a recording out of every coder's queue for good: the coders' door asks :func:`in_coding`. Whether its
submitted ratings stay in agreement, consensus and the analysis dataset is the exclusion's ``ratings_count``:
those readers ask :func:`counted` (or its complement :func:`not_counted`), and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import SQLColumnExpression, exists, select
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.elements import ColumnElement

from . import audit
from .accounts import require_role
from .store import Store
from .store.models import Account, Exclusion, Recording

CAUSES = {"flag": "a coder could not code it", "withdrawal": "consent withdrawn"}
"""Why a recording left the study, as the PI reads it."""


def in_coding(recording_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """True for a recording that no exclusion has taken out of coding."""
    return ~exists().where(aliased(Exclusion).recording_id == recording_id)


def counted(recording_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """True for a recording whose submitted ratings count in the analysis: not excluded, or excluded with its
    ratings kept."""
    exclusion = aliased(Exclusion)  # its own, never the outer query's exclusion
    return ~exists().where(exclusion.recording_id == recording_id, exclusion.ratings_count.is_(False))


def not_counted(db: Session) -> dict[str, str]:
    """The recordings whose ratings do not count (:func:`counted`), by code, with the cause: for tables already read."""
    rows = db.execute(
        select(Recording.code, Exclusion.cause)
        .join(Exclusion, Exclusion.recording_id == Recording.id)
        .where(~counted(Recording.id))
    )
    return dict(rows.all())


def why_not_counted(cause: str) -> str:
    """Why an excluded recording's ratings do not count, in the words the analysis dataset and the export share."""
    return f"excluded from the study ({CAUSES[cause]}): its ratings do not count"


@dataclass(frozen=True)
class Excluded:
    code: str
    kind: str
    cause: str
    """Why, in words (:data:`CAUSES`)."""
    ratings_count: bool
    reason: str
    by: str
    at: datetime


@audit.refusals("refused.exclusion", "exclusion")
def excluded(store: Store, pi: Account) -> list[Excluded]:
    """Every recording excluded from the study, oldest first, for the PI."""
    require_role(pi, "pi")
    with store.read() as db:
        rows = db.execute(
            select(Exclusion, Recording.code, Recording.kind)
            .join(Recording, Recording.id == Exclusion.recording_id)
            .order_by(Exclusion.at, Recording.code)
        )
        return [Excluded(code, kind, CAUSES[e.cause], e.ratings_count, e.reason, e.by, e.at) for e, code, kind in rows]
