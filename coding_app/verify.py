"""Checking a live or restored study: its database, its media and its ratings, each problem named.

- The database's own check: SQLite's ``integrity_check`` and ``foreign_key_check``; on PostgreSQL
  amcheck's ``bt_index_check`` of every index when the extension is installed. On both, every row
  of every table is read back through the schema's types.
- Every recording's media file against the hash the media store recorded for it (taken when a
  backup first copied it: ``MediaStore.hashes``). A file missing is lost, unless its participant
  withdrew consent (then it was deleted on purpose, and one still there is the problem). A file
  not hashed yet (imported since the last backup) is counted, not judged.
- Every rating and note against the audit log's replay (:mod:`coding_app.audit_replay`).

Problems name recordings by their code, never by anything of the participant's.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, select, text
from sqlalchemy.exc import DBAPIError

from . import audit, audit_replay
from .accounts import require_role
from .backup import media_of
from .media import MediaStore, content_hash
from .store import Store
from .store.models import Account, Base

_BATCH = 1000


@dataclass(frozen=True)
class Verification:
    problems: list[str]
    recordings: int
    withdrawn: int
    """Recordings whose media were deleted because their participant withdrew consent."""
    unhashed: int
    """Media files with no recorded hash yet (no backup since they were imported)."""
    database_check: str
    """What the database's own check was."""

    def summary(self) -> str:
        found = (
            f"{len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}" if self.problems else "no problems"
        )
        return (
            f"{found}: {self.recordings} recordings checked, {self.withdrawn} withdrawn (media deleted on purpose), "
            f"{self.unhashed} media files not hashed yet (hashed by the next backup); database: {self.database_check}"
        )


def _database(connection: Connection) -> tuple[list[str], str]:
    """The database's problems, and what was checked."""
    problems, checked = [], "every row read back"
    if connection.dialect.name == "sqlite":
        checked = "integrity_check, foreign_key_check, every row read back"
        said = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
        problems += [f"database: {line}" for line in said if line != "ok"]
        problems += [
            f"database: a row of {row[0]} refers to a missing row of {row[2]}"
            for row in connection.exec_driver_sql("PRAGMA foreign_key_check")
        ]
    elif connection.scalar(
        text(
            "SELECT has_function_privilege(f, 'EXECUTE') FROM to_regprocedure('bt_index_check(regclass)') "
            "AS f WHERE f IS NOT NULL"
        )
    ):  # amcheck installed, and this account may run it
        indexes = (
            connection.execute(
                text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "JOIN pg_am a ON a.oid = c.relam "
                    "WHERE a.amname = 'btree' AND c.relnamespace = current_schema()::regnamespace"
                )
            )
            .scalars()
            .all()
        )
        for index in indexes:
            try:
                with connection.begin_nested():
                    connection.execute(text("SELECT bt_index_check(CAST(:index AS regclass))"), {"index": index})
            except DBAPIError as error:
                problems.append(f"database: index {index} is damaged ({type(error.orig).__name__})")
        checked = f"amcheck on {len(indexes)} indexes, every row read back"
    for table in Base.metadata.sorted_tables:
        try:
            with connection.begin_nested():
                for _ in connection.execute(select(table).execution_options(yield_per=_BATCH)).partitions():
                    pass
        except (DBAPIError, ValueError) as error:
            problems.append(f"database: table {table.name} cannot be read back ({type(error).__name__})")
    return problems, checked


def _media(recordings: list[tuple[str, str, bool]], media: MediaStore) -> tuple[list[str], int]:
    problems, hashes, unhashed = [], media.hashes(), 0
    for code, name, withdrawn in recordings:
        path = media.path(name)
        if withdrawn:
            if path.exists():
                problems.append(
                    f"recording {code}: its participant withdrew consent, but its media file is still in the store"
                )
        elif not path.exists():
            problems.append(f"recording {code}: media file missing (lost)")
        elif name not in hashes:
            unhashed += 1
        elif content_hash(path) != hashes[name]:
            problems.append(f"recording {code}: media file does not match its recorded hash (changed or damaged)")
    return problems, unhashed


def _ratings(store: Store, pi: Account) -> list[str]:
    try:
        return [f"ratings: {difference}" for difference in audit_replay.check(store, pi)]
    except audit_replay.ReplayError as error:
        return [f"ratings: the audit log cannot be replayed: {error}"]


@audit.refusals("refused.verify", "study")
def verify(store: Store, pi: Account, media: MediaStore) -> Verification:
    """Check the study (PI only); the check and what it found are audited."""
    require_role(pi, "pi")
    with store.engine.connect() as connection, connection.begin():
        problems, checked = _database(connection)
    with store.read() as db:
        recordings = media_of(db)
    found, unhashed = _media(recordings, media)
    problems += found + _ratings(store, pi)
    done = Verification(problems, len(recordings), sum(w for _, _, w in recordings), unhashed, checked)
    with store.write() as db:
        audit.record(
            db,
            pi.name,
            "study.verify",
            "study",
            None,
            new={"problems": len(problems), "recordings": done.recordings, "withdrawn": done.withdrawn},
        )
    return done
