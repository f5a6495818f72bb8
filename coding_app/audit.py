"""The audit log: who did what, when, to what, with old and new values and the reason.

Rows are only ever added (the database refuses updates and deletes). Reading the log is for
the PI: see :func:`coding_app.unblinding.audit_entries`. Refused attempts are on it too
(actions ``refused.*``), written by :func:`refused` where each kind of refusal is decided.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from sqlalchemy.orm import Session

from .store import Store
from .store.models import AuditEntry

P = ParamSpec("P")
R = TypeVar("R")
# Widths of the audit table's actor and entity_id columns: what an attacker typed is cut, not refused.
_ACTOR_WIDTH, _ID_WIDTH = 100, 64


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


def refused(store: Store, actor: str, action: str, entity: str, entity_id: object = None, *, reason: str) -> None:
    """Record a refused attempt in a write transaction of its own.

    The refused operation's transaction rolls back (or never began), and the record must outlive
    it. ``entity_id`` is what was asked for as it was given (a recording code, say); callers pass
    nothing that identifies a person: no participant, arm, session, clinician or file name.
    """
    with store.write() as db:
        record(db, actor[:_ACTOR_WIDTH], action, entity, None if entity_id is None else str(entity_id)[:_ID_WIDTH],
               reason=reason)  # fmt: skip


def refusals(
    action: str, entity: str, *, entity_id: str | None = None,
    of: tuple[type[Exception], ...] = (PermissionError,),
) -> Callable[[Callable[P, R]], Callable[P, R]]:  # fmt: skip
    """Audit every refusal (an exception in ``of``) a door function raises, then let it propagate.

    For functions called as ``f(store, account, ...)``: the actor is the account (anonymous when
    None), and the entity id the argument named ``entity_id``. Decorating the door, not its
    callers, keeps one place per kind of refusal however many pages and commands use it.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)

        @functools.wraps(function)
        def door(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return function(*args, **kwargs)
            except of as refusal:
                given = signature.bind(*args, **kwargs).arguments
                store, account = list(given.values())[:2]
                actor = "anonymous" if account is None else account.name
                refused(store, actor, action, entity, given.get(entity_id) if entity_id else None, reason=str(refusal))
                raise

        return door

    return decorate
