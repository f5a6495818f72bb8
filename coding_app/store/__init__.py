"""The database: engine, transactions and schema migrations.

An embedded SQLite file by default; PostgreSQL (``postgresql+psycopg://``) for several sites or
a shared volume. The URL comes from ``--db`` or ``OBSCODE_DATABASE_URL``.
"""

from __future__ import annotations

import math
import os
import select
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError
from sqlalchemy.orm import Session

DEFAULT_URL = "sqlite:///var/obscode.db"
MIGRATIONS = resources.files("coding_app.store") / "migrations"
# A writer waits this long for another writer's transaction before giving up.
BUSY_TIMEOUT_MS = 30_000
# A PostgreSQL connection used this recently is trusted without a ping (see _postgresql_engine).
RECENT_S = 5.0
# While SQLite writes come in, the longest between two checkpoints of its write-ahead log (see _Checkpointer).
CHECKPOINT_EVERY_S = 0.5


class StoreError(RuntimeError):
    """The database cannot be used as it is; the message says what to do."""


class StoreUnavailable(StoreError):
    """The database could not do this just now (unreachable, read-only, disk full or failing, busy).

    The transaction was rolled back, so nothing of it was kept; the same call can be tried again
    later. The message names the cause only: never the SQL, its parameters or a file path, which
    could carry a coder's notes or a participant's identity into a log.
    """

    def __init__(self, cause: str) -> None:
        self.cause = cause
        super().__init__(f"{UNAVAILABLE_CAUSES[cause]}; nothing was changed, try again in a moment")


UNAVAILABLE_CAUSES = {
    "unreachable": "the study database cannot be reached",
    "read-only": "the study database is read-only",
    "full": "the disk holding the study database is full",
    "busy": "the study database is busy with other writers",
    "disk": "the disk holding the study database reported an error",
}
# SQLite result codes and PostgreSQL SQLSTATE classes/codes, by cause. Anything else (a broken
# constraint, a bug) is not an outage and is raised as it is.
_SQLITE_CAUSES = {
    "SQLITE_BUSY": "busy",
    "SQLITE_LOCKED": "busy",
    "SQLITE_READONLY": "read-only",
    "SQLITE_FULL": "full",
    "SQLITE_CANTOPEN": "unreachable",
    "SQLITE_IOERR": "disk",
}
_POSTGRES_CAUSES = {
    "08": "unreachable",
    "57P01": "unreachable",
    "57P02": "unreachable",
    "57P03": "unreachable",
    "25006": "read-only",
    "53100": "full",
    "40001": "busy",
    "40P01": "busy",
    "55P03": "busy",
}


def _outage(error: DBAPIError) -> str | None:
    """The cause of an outage behind this driver error, or None if it is not one."""
    if error.connection_invalidated:
        return "unreachable"
    original = error.orig
    name = getattr(original, "sqlite_errorname", None)
    if name is not None:
        return _SQLITE_CAUSES.get("_".join(name.split("_")[:2]))  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
    state = getattr(original, "sqlstate", None)
    if state is None:
        # psycopg reports a refused or dropped connection with no SQLSTATE at all.
        return "unreachable" if isinstance(error, OperationalError) else None
    return _POSTGRES_CAUSES.get(state) or _POSTGRES_CAUSES.get(state[:2])


@contextmanager
def _outages_reported() -> Iterator[None]:
    """Turn a driver error that means "not now" into :class:`StoreUnavailable`; leave the rest."""
    try:
        yield
    except DBAPIError as error:
        cause = _outage(error)
        if cause is None:
            raise
        raise StoreUnavailable(cause) from None


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("OBSCODE_DATABASE_URL") or DEFAULT_URL


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection, _record) -> None:  # noqa: ANN001 - DB-API connection
        # Take BEGIN away from pysqlite, so that writes can say BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA wal_autocheckpoint = 0")  # the store's own thread does it (see _Checkpointer)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
        # A read-then-write transaction must hold the write lock from its start; otherwise two
        # writers both read, then one fails with "database is locked" when it upgrades.
        immediate = connection.get_execution_options().get("obscode_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _postgresql_engine(url: str) -> Engine:
    """An engine that spends as few round trips as it can on connections and transactions.

    psycopg is in autocommit mode and the transactions are ours, as on SQLite: a read sends no
    BEGIN and no COMMIT (under READ COMMITTED each statement sees what was committed when it
    started, inside a transaction or not), and a write's BEGIN goes in one message with the
    table lock it asks for (see :meth:`Store.write`). A connection that asks for another
    isolation level (a backup's snapshot) is left to psycopg, which begins it itself.

    The pool pings a connection only when it may have died since its last use. A ping is a
    round trip before every transaction, and under load each round trip waits for a CPU on both
    sides. A connection used within :data:`RECENT_S` is not pinged unless the server has sent
    something on it unasked: a restarted server or a killed backend says goodbye (FATAL) and
    closes its end, which makes the socket readable without a round trip. A host gone silently
    takes longer than that to come back, and older connections are pinged as ``pool_pre_ping``
    would: a failed ping replaces every pooled connection.
    """
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    @event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # noqa: ANN001 - SQLAlchemy Connection
        options = connection.get_execution_options()
        if options.get("obscode_read") or options.get("isolation_level", "AUTOCOMMIT") != "AUTOCOMMIT":
            return
        held = options.get("obscode_holding")
        connection.exec_driver_sql(f"BEGIN; LOCK TABLE {held} IN SHARE MODE" if held else "BEGIN")

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _used(_dbapi_connection, record) -> None:  # noqa: ANN001 - DB-API connection, pool entry
        record.info["used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection, record, _proxy) -> None:  # noqa: ANN001 - DB-API connection, pool entry
        recent = time.monotonic() - record.info.get("used", -math.inf) < RECENT_S
        if recent and not (dbapi_connection.closed or select.select([dbapi_connection], [], [], 0)[0]):
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise InvalidatePoolError(f"the server did not answer a ping: {type(error).__name__}") from None

    return engine


class FairLock:
    """A lock taken in arrival order: each release hands it straight to the longest waiter.

    ``threading.Lock`` promises no order, so a writer can be overtaken again and again.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._owner: int | None = None
        self._waiters: deque[threading.Lock] = deque()

    @property
    def queued(self) -> int:
        """Threads waiting for the lock."""
        return len(self._waiters)

    def acquire(self) -> None:
        """Wait for the lock; raises RuntimeError if this thread holds it already (it would wait for itself)."""
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                raise RuntimeError("a thread asked again for a lock it holds (a write opened inside a write?)")
            if not self._held:
                self._held, self._owner = True, me
                return
            waiter = threading.Lock()
            waiter.acquire()
            self._waiters.append(waiter)
        waiter.acquire()  # released by the holder that hands the lock over
        self._owner = me

    def hand_over(self) -> bool:
        """Pass the lock to the longest waiter if there is one; otherwise keep holding it and say so."""
        return self._pass(keep=True)

    def release(self) -> None:
        self._pass(keep=False)

    def _pass(self, *, keep: bool) -> bool:
        with self._guard:
            if self._waiters:
                self._owner = None  # until the waiter wakes and says it is the owner
                self._waiters.popleft().release()
                return True
            self._held = keep
            if not keep:
                self._owner = None
            return False


class _Checkpointer:
    """Copies SQLite's write-ahead log into the database file from a thread of its own, so no writer waits for it.

    SQLite checkpoints inside the COMMIT that takes the log past 1,000 pages, while that commit
    holds the write queue: every writer in line behind it waited for pages to be copied and the
    database file flushed. The store's connections turn that off (``wal_autocheckpoint = 0``);
    after commits, this thread runs a PASSIVE checkpoint, which waits for no writer or reader and
    none for it, at most once per :data:`CHECKPOINT_EVERY_S`, copying every commit since the last
    at once. A commit is in the log, flushed, before it is acknowledged: a checkpoint only moves it.
    A process that ends leaves the rest to the next to open the file (SQLite replays the log).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._due = threading.Event()
        self._closing = threading.Event()
        self._starting = threading.Lock()
        self._thread: threading.Thread | None = None

    def committed(self) -> None:
        """A commit added to the log: a checkpoint is due (the thread starts with the first)."""
        if self._thread is None:
            with self._starting:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="obscode-checkpoint", daemon=True)
                    self._thread.start()
        self._due.set()

    def _run(self) -> None:
        while self._due.wait() and not self._closing.is_set():
            self._due.clear()
            try:
                connection = self._engine.raw_connection()
                try:
                    connection.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")
                finally:
                    connection.close()
            except (sqlite3.Error, DBAPIError):
                pass  # a failing disk is the writers' to report; the next commit asks for a checkpoint again
            self._closing.wait(CHECKPOINT_EVERY_S)

    def close(self) -> None:
        self._closing.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join()


@dataclass
class _Group:
    """Writes that share one SQLite transaction, each in a savepoint of its own."""

    connection: Connection
    committed: threading.Event = field(default_factory=threading.Event)
    lost: str | None = None
    """The outage that rolled the whole transaction back, if one did."""


class _GroupCommit:
    """One process's writes to one SQLite file: one at a time in arrival order, committed together.

    SQLite has one write lock, and a writer that finds it taken polls for it (sleeping up to
    100 ms between tries): under 20 writers the slowest save waited seconds. Within a process,
    writers instead queue for a :class:`FairLock` and are woken when their turn comes. A writer
    that finishes while others wait hands them its open transaction (BEGIN IMMEDIATE) instead of
    committing it; each write runs in a savepoint, so an error rolls back that write alone. The
    last in line commits for all: one disk flush for the queue instead of one each. Nobody's
    ``with`` block is left before the commit that keeps its write, and a member waits for that
    commit, so a group holds at most one write per thread.
    """

    def __init__(self, writer: Engine, checkpoints: _Checkpointer) -> None:
        self._writer = writer
        self._checkpoints = checkpoints
        self._lock = FairLock()
        self._group: _Group | None = None

    @property
    def queued(self) -> int:
        """Writers waiting for their turn."""
        return self._lock.queued

    @contextmanager
    def write(self) -> Iterator[Session]:
        self._lock.acquire()
        try:
            group = self._group or self._begin()
        except BaseException:
            self._lock.release()
            raise
        try:
            session = Session(group.connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
            with session, session.begin():
                yield session
        except BaseException as error:
            dbapi = group.connection.connection.dbapi_connection
            assert dbapi is not None  # the group holds its connection checked out until it ends
            if dbapi.in_transaction:
                self._done(group)  # this write's savepoint is rolled back; the others' stand
            else:  # SQLite rolled the whole transaction back (a full or failing disk)
                self._end(group, (_outage(error) if isinstance(error, DBAPIError) else None) or "disk")
            raise
        self._done(group)
        group.committed.wait()
        if group.lost is not None:
            raise StoreUnavailable(group.lost)

    def _begin(self) -> _Group:
        connection = self._writer.connect()
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        self._group = _Group(connection)
        return self._group

    def _done(self, group: _Group) -> None:
        """Hand the open transaction to the next writer, or commit it when nobody waits."""
        if self._lock.hand_over():
            return
        try:
            group.connection.commit()
        except DBAPIError as error:
            self._end(group, _outage(error) or "disk")  # a commit fails only when the disk does
            raise
        self._end(group, None)
        self._checkpoints.committed()

    def _end(self, group: _Group, lost: str | None) -> None:
        """Close the group (rolled back if ``lost``), tell its writers, and let the next one start afresh."""
        group.lost = lost
        self._group = None
        try:
            group.connection.close()
        finally:
            group.committed.set()
            self._lock.release()


class Store:
    """One study's database."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        dialect = make_url(self.url).get_backend_name()
        if dialect == "sqlite":
            self.engine = _sqlite_engine(self.url)
        elif dialect == "postgresql":
            self.engine = _postgresql_engine(self.url)
        else:
            raise StoreError(f"unsupported database {dialect!r}: use sqlite:///FILE or postgresql+psycopg://...")
        self._reader = self.engine.execution_options(obscode_read=True)
        self._writer = self.engine.execution_options(obscode_write=True)
        self._holding: dict[str, Engine] = {}
        # PostgreSQL queues its writers itself (row locks wake waiters; concurrent commits share a flush).
        self._checkpoints = _Checkpointer(self.engine) if dialect == "sqlite" else None
        self.writes = None if self._checkpoints is None else _GroupCommit(self._writer, self._checkpoints)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _alembic(self) -> Config:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        return config

    def upgrade(self) -> None:
        """Create the schema or bring it up to date."""
        config = self._alembic()
        with self._writer.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def is_current(self) -> bool:
        head = ScriptDirectory.from_config(self._alembic()).get_current_head()
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision() == head

    def check(self) -> None:
        """Raise :class:`StoreError` unless the schema is up to date."""
        try:
            current = self.is_current()
        except OperationalError as error:
            raise StoreError(f"cannot open the database ({error.orig})") from None
        if not current:
            raise StoreError("the database is not initialised or is out of date: run `obscode init`")

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads, in one (deferred) transaction; what it loads stays usable after."""
        with _outages_reported(), Session(self._reader, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def write(self, *, holding: str | None = None) -> Iterator[Session]:
        """A session whose changes are committed together at the end, or not at all.

        Its ``with`` block is left once they are committed. On SQLite, the writes of this process
        take turns in arrival order (see :class:`_GroupCommit`) and each holds the whole database.
        On PostgreSQL, ``holding`` names a table held in SHARE mode from the transaction's start,
        taken with its BEGIN in one round trip: a writer of that table waits for this transaction,
        and this one for a writer of it that came first, so every read here sees the table settled.
        """
        with _outages_reported():
            if self.writes is not None:
                with self.writes.write() as session:
                    yield session
            else:
                writer = self._writer if holding is None else self._holder(holding)
                with Session(writer, expire_on_commit=False) as session, session.begin():
                    yield session

    def _holder(self, table: str) -> Engine:
        """The writer whose transactions begin holding ``table`` (one per table, made once)."""
        if table not in self._holding:
            self._holding[table] = self._writer.execution_options(obscode_holding=table)
        return self._holding[table]

    def dispose(self) -> None:
        if self._checkpoints is not None:
            self._checkpoints.close()
        self.engine.dispose()
