"""A draft save asks the database a bounded number of statements, on SQLite and on PostgreSQL.

Under load every statement is a round trip that waits its turn for a CPU, on the database side
and back: on PostgreSQL a draft save's latency under 20 coders grew with their count. A change
that adds a statement to every save fails here. Counted: the statements SQLAlchemy sends
(queries and changes), not transaction control (BEGIN, savepoints, COMMIT, the pool's ping).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.store import Store
from tests.faults.load import make_study

SCALE = "ea_sensitivity"
DRAFT_SAVE_STATEMENTS = 6
"""The assignment with the scale; the database lock (on PostgreSQL a table lock, then the lock
history of the study and the scale); the current draft; the draft itself; its audit row."""
CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")


@contextmanager
def statements(store: Store) -> Iterator[list[str]]:
    sent: list[str] = []

    def count(_connection, _cursor, statement, _parameters, _context, _many) -> None:  # noqa: ANN001
        if not statement.lstrip().upper().startswith(CONTROL):
            sent.append(statement)

    event.listen(store.engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(store.engine, "before_cursor_execute", count)


def test_a_draft_save_sends_a_bounded_number_of_statements(store):
    (name,) = make_study(store, 1, 1)
    with store.read() as db:
        account = account_named(db, name)
    (code,) = [item.code for item in blinded.queue(store, account)]
    for score in (5.0, 5.5):  # the first draft (a new row), then a change to it
        with statements(store) as sent:
            blinded.save_draft(store, account, code, SCALE, score)
        assert len(sent) <= DRAFT_SAVE_STATEMENTS, "\n".join(sent)
        assert blinded.task(store, account, code).ratings[SCALE].score == score
