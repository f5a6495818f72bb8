"""A draft save asks the database a bounded number of times, on SQLite and on PostgreSQL.

Under load every round trip to PostgreSQL waits its turn for a CPU, on the database side and
back: a draft save's latency under 20 coders grew with their count. A change that adds one to
every save fails here. On PostgreSQL the round trips themselves are counted, from libpq's own
trace of what the client sent (every message that waits for an answer: a simple query, or the
Sync ending an extended one), so transaction control and a table lock count as well. SQLite has
no round trips; there the statements SQLAlchemy sends (queries and changes, not transaction
control) are counted, as the work a save does while it holds the write lock.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from psycopg import pq
from sqlalchemy import event

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.store import Store
from tests.conftest import TEMPLATE
from tests.faults.load import make_study

SCALE = "ea_sensitivity"
DRAFT_SAVE_ROUND_TRIPS = 5
"""PostgreSQL: BEGIN with the database lock's table lock; the assignment with its scale, the rating's latest
version and whether the scale is closed; the draft itself; its audit row; COMMIT."""
DRAFT_SAVE_STATEMENTS = 3
"""SQLite: the assignment with all the above; the draft; its audit row."""
TASK_ROUND_TRIPS = 5
"""PostgreSQL, opening a recording (a read): the assignment, the codebook, the recording's scales, its ratings, its
notes; no BEGIN or COMMIT."""
CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT")
ASKING = ("Query", "Sync")
"""The libpq trace's names of the messages a client waits on."""


@contextmanager
def asked(store: Store) -> Iterator[list[str]]:
    """What ``store`` asked the database inside the block: round trips (PostgreSQL) or statements (SQLite)."""
    sent: list[str] = []
    if store.engine.dialect.name == "sqlite":

        def count(_connection, _cursor, statement, _parameters, _context, _many) -> None:  # noqa: ANN001
            if not statement.lstrip().upper().startswith(CONTROL):
                sent.append(statement)

        event.listen(store.engine, "before_cursor_execute", count)
        try:
            yield sent
        finally:
            event.remove(store.engine, "before_cursor_execute", count)
        return
    with tempfile.TemporaryDirectory() as folder:
        trace = Path(folder) / "trace"
        with trace.open("w") as out:

            def follow(dbapi_connection, _record, _proxy) -> None:  # noqa: ANN001
                dbapi_connection.pgconn.trace(out.fileno())
                dbapi_connection.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

            def stop(dbapi_connection, _record) -> None:  # noqa: ANN001
                dbapi_connection.pgconn.untrace()

            event.listen(store.engine, "checkout", follow)
            event.listen(store.engine, "checkin", stop)
            try:
                yield sent
            finally:
                event.remove(store.engine, "checkout", follow)
                event.remove(store.engine, "checkin", stop)
        for line in trace.read_text().splitlines():  # a statement's own line breaks start lines of no message
            direction, _length, message, *text = [*line.split("\t"), "", "", ""][:4]
            if direction == "F" and message in ASKING:
                sent.append(f"{message} {''.join(text)}".strip())


@pytest.fixture
def postgresql_store(postgres) -> Iterator[Store]:
    store = Store(postgres.create_database(f"round_trips_{uuid.uuid4().hex}", template=TEMPLATE))
    yield store
    store.dispose()


def _coder(store: Store):  # noqa: ANN202 - (account, code)
    (name,) = make_study(store, 1, 1)
    with store.read() as db:
        account = account_named(db, name)
    (code,) = [item.code for item in blinded.queue(store, account)]
    return account, code


def test_a_draft_save_asks_the_database_a_bounded_number_of_times(store):
    account, code = _coder(store)
    bound = DRAFT_SAVE_STATEMENTS if store.engine.dialect.name == "sqlite" else DRAFT_SAVE_ROUND_TRIPS
    for score in (5.0, 5.5):  # the first draft (a new row), then a change to it
        with asked(store) as sent:
            blinded.save_draft(store, account, code, SCALE, score)
        assert len(sent) <= bound, "\n".join(sent)
        assert blinded.task(store, account, code).ratings[SCALE].score == score


def test_opening_a_recording_sends_no_transaction_control_to_postgresql(postgresql_store):
    account, code = _coder(postgresql_store)
    with asked(postgresql_store) as sent:
        blinded.task(postgresql_store, account, code)
    assert not [message for message in sent if message.upper().startswith(('QUERY "BEGIN', 'QUERY "COMMIT'))], sent
    assert len(sent) <= TASK_ROUND_TRIPS, "\n".join(sent)
