"""Backups of a study, taken while coders work, and restoring one into an empty database of either kind.

A backup is a folder whose names say nothing of the study's participants:

- ``study.sqlite``: every table, read in one transaction (a snapshot of what was committed when it
  began: SQLite's WAL read snapshot, PostgreSQL's REPEATABLE READ), written as an SQLite file at the
  same schema revision whatever the study's database. One form restores into SQLite and PostgreSQL
  alike; a ``pg_dump`` archive could be read back only by a PostgreSQL server.
- ``codebook.json``: the study's scales and [study] settings as the snapshot holds them, for people.
- ``media/NAME``: every media file the snapshot names, under its opaque name.
- ``media.sha256``: their hashes as the media store recorded them when first hashed.
- ``SHA256SUMS``: the hash of every file above (``sha256sum -c SHA256SUMS`` checks it by hand too).

It is written into ``DIR.partial`` and renamed to ``DIR`` when whole, so a folder named ``DIR`` is
always a complete backup. A restore checks every hash before it touches anything.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, DateTime, delete, insert, inspect, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from . import audit
from .accounts import end_sessions, require_role
from .media import HASHES, MediaStore, content_hash, read_sums, write_sums
from .store import Store, StoreError
from .store.models import Account, Base, Recording, RecordingKey, ScaleRow, StudySetting, Withdrawal

DATABASE, CODEBOOK, MEDIA, MEDIA_HASHES, CHECKSUMS = (
    "study.sqlite",
    "codebook.json",
    "media",
    "media.sha256",
    "SHA256SUMS",
)
_BATCH = 1000
_SECRET = "secret_key"
"""The setting that holds the study's signing secret (:func:`coding_app.logins.secret_key` makes it when missing)."""
_CHUNK = 1 << 20


class BackupError(ValueError):
    """A backup that cannot be made or restored as asked; the message says why (names only files of the backup)."""


@dataclass(frozen=True)
class Made:
    folder: Path
    rows: int
    media_files: int
    size: int
    """Bytes on disk, every file of the backup."""
    problems: list[str]
    """Media the snapshot names that were missing or changed (by recording code); the backup holds the rest."""


def _utc(moment: datetime | None) -> datetime | None:
    """Timestamps cross as UTC: SQLite keeps them naive (UTC), PostgreSQL in its session's time zone."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def copy_tables(source: Connection, target: Connection) -> int:
    """Copy every row of every table, parents before children, into an empty schema; returns the rows copied."""
    unknown = set(inspect(source).get_table_names()) - {"alembic_version", *Base.metadata.tables}
    if unknown:  # a table no model declares would be left behind without a word
        raise BackupError(
            f"the database has tables obscode does not know ({', '.join(sorted(unknown))}): nothing was copied"
        )
    copied = 0
    for table in Base.metadata.sorted_tables:
        stamps = [c.name for c in table.columns if isinstance(c.type, DateTime)]
        rows = source.execute(select(table).order_by(*table.primary_key.columns).execution_options(yield_per=_BATCH))
        for batch in rows.mappings().partitions():
            target.execute(insert(table), [{**row, **{name: _utc(row[name]) for name in stamps}} for row in batch])
            copied += len(batch)
    if target.dialect.name == "postgresql":  # rows came with their ids: the next id follows the largest
        for table in Base.metadata.sorted_tables:
            if (column := table.autoincrement_column) is not None:
                target.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT max({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )
    return copied


@contextmanager
def _snapshot(store: Store) -> Iterator[Connection]:
    """One read-only transaction over the whole database: every read in it sees the same committed state."""
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":
            connection = connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with connection.begin():
            yield connection


def _copy_hashed(source: Path, target: Path) -> str:
    """Copy one file, returning the SHA-256 of the bytes written."""
    digest = hashlib.sha256()
    with source.open("rb") as reading, target.open("wb") as writing:
        while chunk := reading.read(_CHUNK):
            digest.update(chunk)
            writing.write(chunk)
    return digest.hexdigest()


def media_of(db: Session) -> list[tuple[str, str, bool]]:
    """Every recording's code, media file name, and whether its participant withdrew consent (key side: PI only)."""
    withdrawn = (
        select(Withdrawal.participant_id).where(Withdrawal.participant_id == RecordingKey.participant_id).exists()
    )
    return [
        (code, media_name, withdrawn)
        for code, media_name, withdrawn in db.execute(
            select(Recording.code, Recording.media_name, withdrawn)
            .outerjoin(RecordingKey, RecordingKey.recording_id == Recording.id)
            .order_by(Recording.code)
        )
    ]


@audit.refusals("refused.backup", "study")
def backup(store: Store, pi: Account, media: MediaStore, folder: Path) -> Made:
    """Write a backup of the study into ``folder`` (which must not exist yet); PI only, audited."""
    require_role(pi, "pi")
    partial = folder.with_name(folder.name + ".partial")
    if folder.exists():
        raise BackupError(f"{folder} already exists: a backup goes into a new folder")
    if partial.exists():
        raise BackupError(f"{partial} exists (an interrupted backup?): remove it first")
    (partial / MEDIA).mkdir(parents=True)
    try:
        made = _write(store, media, partial)
        partial.rename(folder)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    with store.write() as db:
        audit.record(
            db,
            pi.name,
            "study.backup",
            "study",
            None,
            reason=None,
            new={
                "folder": folder.name,
                "rows": made.rows,
                "media_files": made.media_files,
                "bytes": made.size,
                "problems": len(made.problems),
            },
        )
    return replace(made, folder=folder)


def _write(store: Store, media: MediaStore, partial: Path) -> Made:
    snapshot = Store(f"sqlite:///{partial / DATABASE}")
    try:
        snapshot.upgrade()
        with _snapshot(store) as source, snapshot.engine.begin() as target:
            rows = copy_tables(source, target)
        with snapshot.read() as db:
            recordings = media_of(db)
            settings = {
                s.key: s.value
                for s in db.scalars(select(StudySetting).where(StudySetting.key != _SECRET).order_by(StudySetting.key))
            }
            scales = [
                {c.name: getattr(row, c.key) for c in ScaleRow.__table__.columns if c.name != "id"}
                for row in db.scalars(select(ScaleRow).order_by(ScaleRow.id))
            ]
    finally:
        snapshot.dispose()
    with sqlite3.connect(partial / DATABASE) as connection:  # one self-contained file, no WAL beside it
        connection.execute("PRAGMA journal_mode = DELETE")
    connection.close()
    (partial / CODEBOOK).write_text(json.dumps({"settings": settings, "scales": scales}, indent=2), encoding="utf-8")
    recorded, kept, copied, problems = media.hashes(), {}, {}, []
    for code, name, withdrawn in recordings:
        stored = media.path(name)
        if withdrawn:  # deleted on purpose, and never to be copied again
            continue
        if not stored.exists():
            problems.append(f"recording {code}: media file missing (lost, or withdrawn while the backup ran)")
            continue
        copied[f"{MEDIA}/{name}"] = digest = _copy_hashed(stored, partial / MEDIA / name)
        if recorded.get(name, digest) != digest:
            problems.append(f"recording {code}: media file does not match its recorded hash (changed or damaged)")
        kept[name] = recorded.get(name, digest)
    media.record_hashes(kept)
    write_sums(partial / MEDIA_HASHES, kept)
    files = {p.relative_to(partial).as_posix(): p for p in partial.iterdir() if p.is_file()}
    write_sums(partial / CHECKSUMS, copied | {name: content_hash(path) for name, path in files.items()})
    size = sum(p.stat().st_size for p in partial.rglob("*") if p.is_file())
    return Made(partial, rows, len(kept), size, problems)


@dataclass(frozen=True)
class Restored:
    rows: int
    media_files: int


def check(folder: Path) -> None:
    """Refuse a backup folder unless every file its checksum file lists is there with that hash."""
    sums = folder / CHECKSUMS
    if not sums.is_file():
        raise BackupError(f"{folder} is not a complete obscode backup (it has no {CHECKSUMS})")
    listed = read_sums(sums)
    for name, digest in listed.items():
        path = folder / name
        if not path.is_file():
            raise BackupError(f"the backup is damaged: {name} is missing; nothing was restored")
        if content_hash(path) != digest:
            raise BackupError(f"the backup is damaged: {name} does not match its checksum; nothing was restored")
    if DATABASE not in listed or MEDIA_HASHES not in listed:
        raise BackupError(f"{folder} is not a complete obscode backup; nothing was restored")


@contextmanager
def opened(folder: Path) -> Iterator[Store]:
    """The backup's database, checked, as a store on a scratch copy (signing in may write; the backup stays as it
    was)."""
    check(folder)
    with tempfile.TemporaryDirectory(prefix="obscode-restore-") as scratch:
        copy = Path(scratch) / DATABASE
        shutil.copyfile(folder / DATABASE, copy)
        store = Store(f"sqlite:///{copy}")
        try:
            if not store.is_current():
                raise BackupError(
                    "the backup was made by another version of obscode (its schema differs): "
                    "restore it with that version"
                )
            yield store
        finally:
            store.dispose()


def _refuse_unless_empty(target: Store, media: MediaStore) -> None:
    ours = {t.name for t in Base.metadata.sorted_tables}
    try:
        with target.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
            filled = tables - ours or {
                t for t in tables & ours if connection.scalar(text(f"SELECT 1 FROM {t} LIMIT 1"))
            }
    except OperationalError as error:
        raise StoreError(f"cannot open the database to restore into ({error.orig})") from None
    if filled:
        raise BackupError("the database to restore into is not empty: restore into a new, empty database")
    if media.root.exists() and any(media.root.iterdir()):
        raise BackupError(f"the media folder {media.root} is not empty: restore into a new, empty folder")


def restore(snapshot: Store, folder: Path, target: Store, media: MediaStore, pi: Account) -> Restored:
    """Rebuild the backed-up study (``snapshot``, from :func:`opened`) into an empty database and media folder.

    PI only (a PI of the backed-up study), audited in the restored study. The media are copied first
    and removed again if the database copy fails, so a failed restore leaves both empty to try again.
    The restored study starts signed out: every session the snapshot held is revoked, and the signing
    secret is made anew, so no cookie, media token or form token from before (or forged from a copy of the
    backup) is honoured.
    """
    require_role(pi, "pi")
    _refuse_unless_empty(target, media)
    target.upgrade()
    hashes = read_sums(folder / MEDIA_HASHES)
    media.root.mkdir(parents=True, exist_ok=True)
    written = []
    try:
        for name in hashes:
            written.append(media.path(name))
            shutil.copyfile(folder / MEDIA / name, media.path(name))
        written.append(media.root / HASHES)
        media.record_hashes(hashes)
        with snapshot.engine.connect() as source, target.engine.begin() as connection:
            rows = copy_tables(source, connection)
            with Session(connection) as db:
                ended = end_sessions(db)
                db.execute(delete(StudySetting).where(StudySetting.key == _SECRET))
                audit.record(
                    db,
                    pi.name,
                    "study.restore",
                    "study",
                    None,
                    new={"folder": folder.name, "rows": rows, "media_files": len(hashes), "sessions_ended": ended},
                )
                db.flush()
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return Restored(rows, len(hashes))
