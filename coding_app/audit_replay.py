"""Replaying the audit log rebuilds every rating, version by version, exactly.

Every change to a rating writes an audit row with the rating's full new values
(:func:`coding_app.ratings.values`), in the same transaction as the change. Applying the rating
rows of the log in order must therefore give the rating table: every (recording, coder, scale,
version) with its score, notes, status and time of submission; its ``notes.save`` rows give
each coder's notes on each recording. A difference means a rating or a note changed without its
audit row, or the log records a change that is not there. The replay is
strict: an entry that cannot follow from the ones before it (a draft of a submitted rating, a
reopen of one never submitted) is reported, not applied.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import select

from .accounts import require_role
from .audit_log import audit_entries
from .store import Store
from .store.models import Account, Assignment, Note, Rating, Recording, ScaleRow, rating_rows

Key = tuple[str, str, str, int]
"""Recording code, coder, scale key, version."""
RATING_ACTIONS = ("rating.draft", "rating.submit", "rating.reopen", "rating.import")
NOTE_ACTION = "notes.save"


class ReplayError(ValueError):
    """An audit entry does not follow from the entries before it."""


class LogEntry(Protocol):
    action: str
    new: Mapping[str, Any] | None


@dataclass(frozen=True)
class RatingValues:
    score: float | None
    notes: str
    status: str
    submitted_at: datetime | None


def _utc(moment: datetime | str | None) -> datetime | None:
    """One form for both sources: the log keeps ISO text, SQLite gives naive UTC, PostgreSQL aware."""
    if moment is None:
        return None
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _values(score: float | None, notes: str, status: str, submitted_at: datetime | str | None) -> RatingValues:
    return RatingValues(None if score is None else float(score), notes, status, _utc(submitted_at))


def _follows(action: str, key: Key, ratings: dict[Key, RatingValues]) -> str | None:
    """Why this entry cannot follow the ratings replayed so far, or None if it can."""
    existing, version = ratings.get(key), key[3]
    previous = ratings.get((*key[:3], version - 1))
    if action == "rating.draft" and existing is None and version != 1:
        return "a draft of a later version that was never reopened"
    if action == "rating.draft" and existing is not None and existing.status == "submitted":
        return "a draft of a submitted rating"
    if action == "rating.submit" and (existing is None or existing.status != "draft"):
        return "a submission of a rating that is not a draft"
    if action == "rating.reopen" and (existing is not None or previous is None or previous.status != "submitted"):
        return "a reopening that does not follow a submitted version"
    if action == "rating.import" and (existing is not None or version != 1):
        return "an import over an existing rating"
    return None


def replay(entries: Iterable[LogEntry]) -> dict[Key, RatingValues]:
    """The ratings the log's rating entries build, applied in the order given (the log's order)."""
    ratings: dict[Key, RatingValues] = {}
    for number, entry in enumerate(entries, start=1):
        if entry.action not in RATING_ACTIONS:
            continue
        new = entry.new or {}
        key = (new["recording"], new["coder"], new["scale"], int(new["version"]))
        problem = _follows(entry.action, key, ratings)
        if problem:
            raise ReplayError(f"entry {number} ({entry.action}) is {problem}: {key}")
        ratings[key] = _values(new["score"], new["notes"], new["status"], new["submitted_at"])
    return ratings


def replay_notes(entries: Iterable[LogEntry]) -> dict[tuple[str, str], str]:
    """Each coder's notes on each recording (by code and coder) as the log's last ``notes.save`` left them."""
    return {
        (new["recording"], new["coder"]): new["text"]
        for new in (entry.new or {} for entry in entries if entry.action == NOTE_ACTION)
    }


def differences(replayed: Mapping, table: Mapping) -> list[str]:
    """Every rating version (or note) on which the replay and the table disagree, missing from either included."""
    found = []
    for key in sorted(replayed.keys() | table.keys()):
        if key not in table:
            found.append(f"{key}: in the log, not in the rating table")
        elif key not in replayed:
            found.append(f"{key}: in the rating table, not in the log")
        elif replayed[key] != table[key]:
            found.append(f"{key}: the log gives {replayed[key]}, the table holds {table[key]}")
    return found


def rating_table(store: Store, pi: Account) -> dict[Key, RatingValues]:
    """Every version of every rating, by recording code, coder, scale and version (PI only)."""
    require_role(pi, "pi")
    with store.read() as db:
        rows = db.execute(
            rating_rows(
                Recording.code,
                Account.name,
                ScaleRow.key,
                Rating.version,
                Rating.score,
                Rating.notes,
                Rating.status,
                Rating.submitted_at,
            )
        ).all()
    return {(code, coder, scale, version): _values(*rest) for code, coder, scale, version, *rest in rows}


def note_table(store: Store, pi: Account) -> dict[tuple[str, str], str]:
    """Every coder's notes, by recording code and coder (PI only)."""
    require_role(pi, "pi")
    with store.read() as db:
        rows = db.execute(
            select(Recording.code, Account.name, Note.text)
            .join(Assignment, Assignment.id == Note.assignment_id)
            .join(Account, Account.id == Assignment.account_id)
            .join(Recording, Recording.id == Assignment.recording_id)
        ).all()
    return {(code, coder): text for code, coder, text in rows}


def check(store: Store, pi: Account) -> list[str]:
    """Replay the study's audit log (the read is audited) against its ratings and notes; [] when they agree."""
    log = list(audit_entries(store, pi).itertuples(index=False))
    return differences(replay(log), rating_table(store, pi)) + differences(replay_notes(log), note_table(store, pi))
