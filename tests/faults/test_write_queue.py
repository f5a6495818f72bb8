"""One process's writers on SQLite take turns in arrival order and share commits; nothing lost, nothing twice.

The queue is SQLite's alone (PostgreSQL queues its writers itself), so its own tests run on
SQLite; the twenty coder threads run on both databases. A writer is held inside its ``with``
block by an event, so the order of arrival is set by the test, not by the scheduler; the
writers are daemon threads, so a failing test does not leave the run waiting for one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from coding_app.store import Store
from coding_app.store.models import AuditEntry
from tests.faults.load import make_study, run_threads, verify

CODERS, RECORDINGS = 20, 5
WAITERS = 8


@pytest.fixture
def sqlite_store(tmp_path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'study.db'}")
    store.upgrade()
    yield store
    store.dispose()


def _write(store: Store, name: str, served: list[str], before_leaving: Callable[[], object] = lambda: None) -> None:
    """One write: an audit row named ``name``; ``served`` says when its turn came."""
    with store.write() as db:
        served.append(name)
        db.add(AuditEntry(actor="queue", action="test.write", entity="test", entity_id=name))
        db.flush()
        before_leaving()


def _names_stored(store: Store) -> list[str]:
    with store.read() as db:
        written = select(AuditEntry.entity_id).where(AuditEntry.action == "test.write").order_by(AuditEntry.id)
        return list(db.scalars(written))


@contextmanager
def _holding_the_turn(store: Store, served: list[str]) -> Iterator[threading.Thread]:
    """A writer inside its ``with`` block until the block of this context ends (join it afterwards)."""
    inside, leave = threading.Event(), threading.Event()
    hold = lambda: (inside.set(), leave.wait())  # noqa: E731
    holder = threading.Thread(target=_write, args=(store, "holder", served, hold), daemon=True)
    holder.start()
    inside.wait()
    try:
        yield holder
    finally:
        leave.set()


def _wait_until_queued(store: Store, writers: int) -> None:
    while store.writes.queued < writers:  # waits for a state; asserts nothing about time
        threading.Event().wait(0.001)


class Refused(Exception):
    """What the failing writer raises inside its block."""


def _queue_up(store: Store, names: list[str], served: list[str], failing: str | None = None) -> list[threading.Thread]:
    """Start one writer per name, each only once the one before is waiting for its turn."""

    def writer(name: str) -> None:
        def refuse() -> None:
            raise Refused(name)

        try:
            _write(store, name, served, refuse if name == failing else lambda: None)
        except Refused:
            pass

    threads = []
    for n, name in enumerate(names, start=1):
        threads.append(threading.Thread(target=writer, args=(name,), daemon=True))
        threads[-1].start()
        _wait_until_queued(store, n)
    return threads


def test_waiting_writers_are_served_in_arrival_order(sqlite_store):
    served: list[str] = []
    names = [f"w{n}" for n in range(1, WAITERS + 1)]
    with _holding_the_turn(sqlite_store, served) as holder:
        waiting = _queue_up(sqlite_store, names, served)
    for thread in [holder, *waiting]:
        thread.join()
    assert served == ["holder", *names]
    assert _names_stored(sqlite_store) == ["holder", *names]


def test_writers_that_queued_behind_one_are_committed_together(sqlite_store):
    commits = []
    event.listen(sqlite_store.engine, "commit", lambda _connection: commits.append(1))
    served: list[str] = []
    with _holding_the_turn(sqlite_store, served) as holder:
        waiting = _queue_up(sqlite_store, [f"w{n}" for n in range(WAITERS)], served)
    for thread in [holder, *waiting]:
        thread.join()
    assert len(commits) == 1  # one disk flush for the nine writes, not nine
    assert len(_names_stored(sqlite_store)) == WAITERS + 1


def test_a_write_that_fails_in_a_group_is_rolled_back_alone(sqlite_store):
    served: list[str] = []
    names = ["w1", "w2", "w3"]
    with _holding_the_turn(sqlite_store, served) as holder:
        waiting = _queue_up(sqlite_store, names, served, failing="w2")
    for thread in [holder, *waiting]:
        thread.join()
    assert served == ["holder", *names]
    assert _names_stored(sqlite_store) == ["holder", "w1", "w3"]


def test_a_write_is_not_acknowledged_before_its_commit(sqlite_store):
    """The holder's block is over, but the transaction it handed to the next writer is not yet committed."""
    served: list[str] = []
    second_inside, second_may_leave = threading.Event(), threading.Event()
    hold = lambda: (second_inside.set(), second_may_leave.wait())  # noqa: E731
    second = threading.Thread(target=_write, args=(sqlite_store, "second", served, hold), daemon=True)
    with _holding_the_turn(sqlite_store, served) as holder:
        second.start()
        _wait_until_queued(sqlite_store, 1)
    second_inside.wait()  # so the holder has left its block and handed its transaction over
    assert holder.is_alive()  # ... but is not told its write is kept
    assert _names_stored(sqlite_store) == []  # rightly: nothing is committed yet
    second_may_leave.set()
    second.join()
    holder.join()
    assert _names_stored(sqlite_store) == ["holder", "second"]


def test_twenty_coder_threads_of_one_process_lose_nothing_and_duplicate_nothing(store):
    names = make_study(store, CODERS, RECORDINGS)
    reports = run_threads(store, names, seed=5)
    outcome = verify(store, reports)
    assert outcome.errors == []
    assert outcome.attempted == outcome.stored == CODERS * RECORDINGS
    assert (outcome.lost, outcome.duplicated) == (0, 0)
    assert all(sent.acknowledged for report in reports for sent in report.sent)


def test_a_write_opened_inside_a_write_of_the_same_thread_is_refused_not_left_waiting_for_itself(sqlite_store):
    served: list[str] = []
    with pytest.raises(RuntimeError, match="a write opened inside a write"):
        _write(sqlite_store, "outer", served, lambda: _write(sqlite_store, "inner", served))
    assert served == ["outer"]
    _write(sqlite_store, "after", served)  # the turn was given back
    assert _names_stored(sqlite_store) == ["after"]
