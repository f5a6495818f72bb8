"""The audit log: who did what, when, to what, with old and new values and the reason.

Rows are only ever added (the database refuses updates and deletes). Reading the log is for
the PI: see :func:`coding_app.audit_log.audit_entries`. Refused attempts are on it too
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
# Every text that reaches the log is bounded here, whoever wrote it: the log is append-only, and
# anyone (an unauthenticated login form, say) could otherwise store a megabyte in it for good.
# The actor and entity_id widths are their columns'; free text is as long as the longest text a
# form accepts (a coder's notes, ratings.NOTES_LIMIT), so nothing rightful is ever cut.
ACTOR_WIDTH, ID_WIDTH, TEXT_WIDTH = 100, 64, 20_000
CUT = "…"
"""Ends a text that was cut to fit: the reader sees that there was more."""


def bounded(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - len(CUT)] + CUT


def entity_key(entity_id: object) -> str | None:
    """An entity id as the log stores it (cut to its column): what to look the rows up by."""
    return None if entity_id is None else bounded(str(entity_id), ID_WIDTH)


def _plain(value: Any) -> Any:
    """Old/new values as JSON keeps them: datetimes as ISO text, every string bounded, at any depth."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return bounded(value, TEXT_WIDTH) if isinstance(value, str) else value


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
            actor=bounded(actor, ACTOR_WIDTH),
            action=action,
            entity=entity,
            entity_id=entity_key(entity_id),
            old=None if old is None else _plain(old),
            new=None if new is None else _plain(new),
            reason=None if reason is None else bounded(reason, TEXT_WIDTH),
        )
    )


def refused(store: Store, actor: str, action: str, entity: str, entity_id: object = None, *, reason: str) -> None:
    """Record a refused attempt in a write transaction of its own.

    The refused operation's transaction rolls back (or never began), and the record must outlive
    it. ``entity_id`` is what was asked for as it was given (a recording code, say); callers pass
    nothing that identifies a person: no participant, arm, session, clinician or file name.
    """
    with store.write() as db:
        record(db, actor, action, entity, entity_id, reason=reason)


def refusals(
    action: str,
    entity: str,
    *,
    entity_id: str | None = None,
    of: tuple[type[Exception], ...] = (PermissionError,),
) -> Callable[[Callable[P, R]], Callable[P, R]]:
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
