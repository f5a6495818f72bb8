"""A full disk or a read-only database: a clear error and nothing half-written.

The SQLite database lives on a small tmpfs mounted for the test (the tests run as root, as CI
does), so the faults are real ones: the disk is filled to the last byte with a filler file, or
the mount is remounted read-only. Then a submission of two scales and a ratings import (two
rows) are tried: each is refused with a StoreUnavailable naming the cause, and every table has
exactly the rows it had. A full disk is reported as such; on a read-only mount SQLite cannot
open its WAL index, so the database is reported as unreachable, for reads as for writes.
Freeing the disk (or remounting it writable) lets the same calls through: the control that
they would have written.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.imports.ratings import import_ratings
from coding_app.store import Store, StoreUnavailable
from tests.coding_app.helpers import add_account, row_counts, write_csv
from tests.faults.load import make_study

SCALES = ("ea_sensitivity", "ea_non_intrusiveness")
DISK_BYTES = 8 << 20
# What the coder is told. On a read-only mount SQLite cannot even open its WAL index (SQLITE_CANTOPEN),
# so the database cannot be reached at all, for reading as for writing.
CAUSES = {"full": "full", "read-only": "unreachable"}


def _mount(*options: str) -> None:
    subprocess.run(["mount", *options], check=True, capture_output=True)


@pytest.fixture
def disk(tmp_path) -> Iterator[Path]:
    """A small tmpfs of this test's own, unmounted afterwards."""
    mountpoint = tmp_path / "disk"
    mountpoint.mkdir()
    _mount("-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(mountpoint))
    yield mountpoint
    subprocess.run(["umount", "-l", str(mountpoint)], check=True)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk has no byte left."""
    filler = disk / "filler"
    with filler.open("wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    return filler


def empty_the_write_ahead_log(store: Store) -> None:
    """Checkpoint and truncate SQLite's WAL (outside any transaction), so the next write needs new disk space."""
    connection = store.engine.raw_connection()
    try:
        connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()


def break_disk(fault: str, disk: Path, store: Store) -> None:
    if fault == "full":
        fill(disk)
    else:
        store.dispose()  # a mount with files open for writing cannot be made read-only
        _mount("-o", "remount,ro", str(disk))


def mend_disk(fault: str, disk: Path) -> None:
    if fault == "full":
        (disk / "filler").unlink()
    else:
        _mount("-o", "remount,rw", str(disk))


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_refused_write_leaves_no_half_and_goes_through_once_the_disk_is_back(disk, tmp_path, fault):
    store = Store(f"sqlite:///{disk / 'study.db'}")
    try:
        (name,) = make_study(store, 1, 1)
        add_account(store, "paper.coder", "coder")
        with store.read() as db:
            account = account_named(db, name)
        (code,) = [item.code for item in blinded.queue(store, account)]
        for scale, score in zip(SCALES, (5.5, 4.0), strict=True):
            blinded.save_draft(store, account, code, scale, score)
        sheet = write_csv(
            tmp_path / "paper.csv",
            [{"recording_id": code, "coder": "paper.coder", "scale": s, "score": "3"} for s in SCALES],
            ("recording_id", "coder", "scale", "score"),
        )
        empty_the_write_ahead_log(store)
        before = row_counts(store)
        break_disk(fault, disk, store)
        try:
            with pytest.raises(StoreUnavailable) as submitting:
                blinded.submit(store, account, code)
            with pytest.raises(StoreUnavailable) as importing:
                import_ratings(store, sheet, "test")
        finally:
            mend_disk(fault, disk)
        assert (submitting.value.cause, importing.value.cause) == (CAUSES[fault],) * 2
        assert row_counts(store) == before
        assert {r.status for r in blinded.task(store, account, code).ratings.values()} == {"draft"}
        assert blinded.submit(store, account, code)
        assert import_ratings(store, sheet, "test") == 2
        grown = row_counts(store)
        assert grown["rating"] == before["rating"] + 2 and grown["audit"] > before["audit"]
    finally:
        store.dispose()
