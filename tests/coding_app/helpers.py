"""Plain helpers shared by the study-store tests (fixtures live in conftest.py)."""

from __future__ import annotations

import csv
import hashlib
import json
import secrets
import subprocess
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import func, select

from coding_app.imports.identifiers import new_code
from coding_app.imports.manifest import MANIFEST_COLUMNS
from coding_app.store import Store
from coding_app.store.models import Account, AuditEntry, Base, Participant, Recording, RecordingKey

PASSWORD = "correct horse battery"


# ----------------------------------------------------------------------------- database state


def row_counts(store: Store) -> dict[str, int]:
    """Rows in every table of the schema, by table name."""
    with store.read() as db:
        return {t.name: db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def audit_rows(store: Store, action: str | None = None) -> list[AuditEntry]:
    with store.read() as db:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if action is not None:
            query = query.where(AuditEntry.action == action)
        return list(db.scalars(query))


def media_listing(root: Path) -> list[tuple[str, int]] | None:
    """Every file under the media folder (hidden partials included) with its size; None if absent."""
    if not root.exists():
        return None
    return sorted((str(p.relative_to(root)), p.stat().st_size) for p in root.rglob("*"))


def keys_by_external_id(store: Store) -> dict[str, tuple[Recording, RecordingKey, Participant]]:
    with store.read() as db:
        rows = db.execute(
            select(Recording, RecordingKey, Participant)
            .join(RecordingKey, RecordingKey.recording_id == Recording.id)
            .join(Participant, Participant.id == RecordingKey.participant_id)
        ).all()
    return {key.external_id: (recording, key, participant) for recording, key, participant in rows}


def external_ids(store: Store, recording_ids: Iterable[int]) -> list[str]:
    """The manifest ids of these recordings, in the order given."""
    with store.read() as db:
        found = {r: e for r, e in db.execute(select(RecordingKey.recording_id, RecordingKey.external_id))}
    return [found[r] for r in recording_ids]


# -------------------------------------------------------------------- study content, shortcut


@cache
def password_hash() -> str:
    return PasswordHasher().hash(PASSWORD)


def add_account(store: Store, name: str, role: str) -> Account:
    """An account row (password PASSWORD), without spending an argon2 hash per test."""
    with store.write() as db:
        account = Account(name=name, roles={role}, password_hash=password_hash(), active=True)
        db.add(account)
    return account


def add_recordings(store: Store, rows: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """Recordings written straight into the tables (no media), as an import would leave them.

    For tests of what happens after import (sampling, assignments, ratings, export). Each row:
    recording_id, participant_id, kind and optionally site, arm, timepoint, session, clinician.
    Returns recording_id -> opaque code.
    """
    codes = {}
    with store.write() as db:
        taken = set(db.scalars(select(Recording.code)))
        participants = {p.external_id: p for p in db.scalars(select(Participant))}
        for row in rows:
            pid = row["participant_id"]
            participant = participants.get(pid)
            if participant is None:
                participant = Participant(external_id=pid, site=row.get("site", "site 1"), arm=row.get("arm") or None)
                db.add(participant)
                participants[pid] = participant
                db.flush()
            extension, media_type = ("mp4", "video/mp4") if row["kind"] == "video" else ("m4a", "audio/mp4")
            recording = Recording(
                code=new_code(taken),
                kind=row["kind"],
                media_name=f"{secrets.token_hex(16)}.{extension}",
                media_type=media_type,
            )
            db.add(recording)
            db.flush()
            db.add(
                RecordingKey(
                    recording_id=recording.id,
                    external_id=row["recording_id"],
                    participant_id=participant.id,
                    timepoint=row.get("timepoint", ""),
                    session=row.get("session") or None,
                    clinician=row.get("clinician") or None,
                    original_path=f"/originals/{row['recording_id']}.mp4",
                    content_hash=hashlib.sha256(row["recording_id"].encode()).hexdigest(),
                    file_metadata={},
                    extra={},
                )
            )
            codes[row["recording_id"]] = recording.code
    return codes


def codes_by_external_id(store: Store) -> dict[str, str]:
    return {external: recording.code for external, (recording, _, _) in keys_by_external_id(store).items()}


# --------------------------------------------------------------------------------- files


def write_csv(path: Path, rows: list[Mapping[str, str]], columns: Iterable[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
    return path


def manifest_rows(rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Manifest rows with every standard column present (blank where not given)."""
    return [{c: "" for c in MANIFEST_COLUMNS} | dict(row) for row in rows]


def ffprobe(path: Path) -> dict:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-show_programs", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def all_tags(info: dict) -> list[dict]:
    """Every tag dictionary ffprobe reports: the container's, each stream's, each program's."""
    tags = [info.get("format", {}).get("tags", {})]
    tags += [s.get("tags", {}) for s in info.get("streams", [])]
    for program in info.get("programs", []):
        tags.append(program.get("tags", {}))
        tags += [s.get("tags", {}) for s in program.get("streams", [])]
    return tags
