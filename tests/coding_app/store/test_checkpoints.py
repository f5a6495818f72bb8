"""SQLite's write-ahead log is copied into the database file by the store's own thread, never by a writer.

A checkpoint inside a commit held every writer queued behind it (the write queue is one line).
The database file itself is read with ``immutable=1``, which ignores the log: what it shows is
what a checkpoint has copied.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from coding_app import store as store_module
from coding_app.store import Store
from coding_app.store.models import AuditEntry
from tests.conftest import wait_until
from tests.faults.test_write_queue import sqlite_store  # noqa: F401 - the fixture

ACTION = "test.write"


@pytest.fixture
def path(tmp_path) -> Path:
    """The file of ``sqlite_store``."""
    return tmp_path / "study.db"


def in_the_file(path: Path) -> int:
    """Rows of the test's writes in the database file itself, leaving the log aside (0 before the first checkpoint)."""
    with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as connection:
        try:
            return connection.execute("SELECT count(*) FROM audit WHERE action = ?", (ACTION,)).fetchone()[0]
        except sqlite3.OperationalError:  # no audit table yet: the schema itself is still in the log
            return 0
        except sqlite3.DatabaseError:  # read while the checkpoint was writing the file ("immutable" takes no lock)
            return -1


def write(store: Store, rows: int, text: str = "") -> None:
    with store.write() as db:
        db.add_all(AuditEntry(actor="test", action=ACTION, entity="test", new={"text": text}) for _ in range(rows))


def test_a_write_reaches_the_database_file_without_another_write_or_a_restart(sqlite_store, path):  # noqa: F811
    write(sqlite_store, 1)
    assert wait_until(lambda: in_the_file(path) == 1, 30, "the checkpoint of the write")


def test_a_write_that_fills_the_log_does_not_checkpoint_it_itself(sqlite_store, path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(store_module._Checkpointer, "committed", lambda _self: None)  # the thread is never asked
    write(sqlite_store, 300, "x" * 19_000)  # 5.7 MB: SQLite's own checkpoint would run at 1,000 pages (4 MB)
    assert in_the_file(path) == 0
    with sqlite_store.read() as db:
        assert db.query(AuditEntry).filter_by(action=ACTION).count() == 300
