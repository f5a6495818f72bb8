"""Ratings: drafts, submission, reopening by a PI, and ratings made elsewhere.

A rating is a draft until submitted, and a submitted version never changes (the database
refuses). A PI reopening it adds the next version, a draft carrying the last score, with who
and why. Every change is an audit row carrying the full new values, so the log replays to the
current ratings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import EllipsisType

import pandas as pd
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from reliability import ScoreError

from . import audit, certification
from .accounts import ROLE_FOR_KIND, require_role
from .assignments import enqueue
from .errors import ImportRefused, NotFound
from .lock import refuse_closed
from .recordings import recording_finder
from .spreadsheet import read_columns
from .store import Store
from .store.models import (
    Account,
    Assignment,
    AssignmentScale,
    Note,
    Rating,
    Recording,
    ScaleRow,
    latest_submitted,
    now,
)
from .study import scale_definition, study_codebook

IMPORT_COLUMNS = ("recording_id", "coder", "scale", "score")
NOTES_LIMIT = 20_000
"""Characters in one coder's notes on a recording: pages of timed observations, not a file dump
(every save is kept in the append-only audit log)."""


class RatingLocked(RuntimeError):
    """The rating was submitted (here or in another window) and is locked."""


class IncompleteRating(ValueError):
    """Submission refused: a scale has no score yet."""


class RatingChanged(RuntimeError):
    """Refused: another window changed what this one showed; ``saved`` is what is stored now."""

    def __init__(self, saved: Mapping[str, float | None | str]) -> None:
        self.saved = dict(saved)
        shown = ", ".join(f"{key} {'blank' if value is None else value}" for key, value in self.saved.items())
        super().__init__(f"changed in another window: nothing was saved; here is what is saved now: {shown}")


class NotesRefused(ValueError):
    """Notes too long to keep; the message says by how much."""


@dataclass(frozen=True)
class RatingState:
    scale: str
    score: float | None
    status: str
    version: int
    updated_at: datetime


def values(rating: Rating, scale_key: str, coder: str, code: str) -> dict:
    """What an audit row keeps of a rating: enough to rebuild it."""
    return {
        "recording": code,
        "coder": coder,
        "scale": scale_key,
        "version": rating.version,
        "score": rating.score,
        "notes": rating.notes,
        "status": rating.status,
        "source": rating.source,
        "submitted_at": rating.submitted_at,
    }


def current(db: Session, assignment_id: int, scale_id: int) -> Rating | None:
    """The latest version of one coder's rating of one recording on one scale."""
    return db.scalar(
        select(Rating)
        .where(Rating.assignment_id == assignment_id, Rating.scale_id == scale_id)
        .order_by(Rating.version.desc())
        .limit(1)
    )


def save_draft(
    db: Session,
    assignment: Assignment,
    scale: ScaleRow,
    score: float | None,
    actor: str,
    code: str,
    *,
    expected: float | None | EllipsisType = ...,
) -> Rating:
    """Create or update the draft score; a submitted rating raises :class:`RatingLocked`.

    ``expected`` is the score the coder's window showed before this change (None: blank). If
    the stored draft differs (another window changed it), nothing is saved and
    :class:`RatingChanged` says what is stored: a compare-and-set, so one window never
    overwrites what it has not seen. ``...`` (the default) skips the check, for callers that
    show nothing.
    """
    if score is not None:  # on the grid of the scale row at hand: the study's other scales are not needed
        score = scale_definition(scale).scale.level(score, scale.key)
    refuse_closed(db, [scale.id], "a draft")
    rating = current(db, assignment.id, scale.id)
    if rating is not None and rating.status == "submitted":
        raise RatingLocked("this rating has been submitted and is locked")
    stored = None if rating is None else rating.score
    if expected is not ... and stored != expected:
        raise RatingChanged({scale.key: stored})
    old = None
    if rating is None:
        rating = Rating(
            assignment_id=assignment.id,
            scale_id=scale.id,
            version=1,
            score=score,
            notes="",
            status="draft",
            source="app",
        )
        db.add(rating)
    else:
        old = values(rating, scale.key, actor, code)
        if rating.score == score:
            return rating
        rating.score, rating.updated_at = score, now()
    db.flush()
    audit.record(db, actor, "rating.draft", "rating", rating.id, old=old, new=values(rating, scale.key, actor, code))
    return rating


def clean_notes(text: str) -> str:
    """Notes as they can be stored: a lone UTF-16 surrogate (half an emoji from a browser) becomes U+FFFD.

    Too long a text raises :class:`NotesRefused`, saying by how much.
    """
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if len(text) > NOTES_LIMIT:
        raise NotesRefused(
            f"notes are limited to {NOTES_LIMIT:,} characters; these have {len(text):,}: "
            f"shorten them by {len(text) - NOTES_LIMIT:,}"
        )
    return text


def notes_of(db: Session, assignment_id: int) -> str:
    note = db.get(Note, assignment_id)
    return "" if note is None else note.text


def _locked(db: Session, assignment_id: int) -> bool:
    """True once every scale of the assignment is submitted (as its latest version)."""
    scale_ids = db.scalars(select(AssignmentScale.scale_id).where(AssignmentScale.assignment_id == assignment_id))
    latest = [current(db, assignment_id, scale_id) for scale_id in scale_ids]
    return bool(latest) and all(r is not None and r.status == "submitted" for r in latest)


def save_notes(
    db: Session, assignment: Assignment, text: str, actor: str, code: str, *, expected: str | EllipsisType = ...
) -> str:
    """Keep the coder's notes on this recording, once for all its scales; returns them as stored.

    Cleaned and bounded by :func:`clean_notes`; refused once the recording is submitted
    (:class:`RatingLocked`), and compare-and-set on ``expected`` like :func:`save_draft`.
    The audit row keeps the new text only: the old one is the previous row's.
    """
    text = clean_notes(text)
    refuse_closed(
        db, db.scalars(select(AssignmentScale.scale_id).where(AssignmentScale.assignment_id == assignment.id)), "notes"
    )
    if _locked(db, assignment.id):
        raise RatingLocked("this recording has been submitted: its notes are locked")
    note = db.get(Note, assignment.id)
    stored = "" if note is None else note.text
    if expected is not ... and stored != expected:
        raise RatingChanged({"notes": stored})
    if stored == text:
        return text
    if note is None:
        db.add(Note(assignment_id=assignment.id, text=text))
    else:
        note.text, note.updated_at = text, now()
    db.flush()
    audit.record(
        db, actor, "notes.save", "assignment", assignment.id, new={"recording": code, "coder": actor, "text": text}
    )
    return text


def submit(
    db: Session, assignment: Assignment, actor: str, code: str, *, shown: Mapping[str, float] | None = None
) -> bool:
    """Submit every scale of one assignment together; False when it was already submitted.

    ``shown`` is the scores the coder confirmed, by scale key: if the stored ones differ
    (another window changed them), nothing is submitted and :class:`RatingChanged` says what is
    stored, so a submission locks exactly what was on the confirming screen.
    """
    rows = (
        db.execute(
            select(ScaleRow)
            .join(AssignmentScale, AssignmentScale.scale_id == ScaleRow.id)
            .where(AssignmentScale.assignment_id == assignment.id)
            .order_by(ScaleRow.id)
        )
        .scalars()
        .all()
    )
    latest = {scale.key: (scale, current(db, assignment.id, scale.id)) for scale in rows}
    pending = {k: (s, r) for k, (s, r) in latest.items() if r is None or r.status != "submitted"}
    if not pending:
        return False
    refuse_closed(db, [scale.id for scale, _ in pending.values()], "a submission")
    stored = {key: None if rating is None else rating.score for key, (_, rating) in latest.items()}
    if shown is not None and stored != dict(shown):
        raise RatingChanged(stored)
    unscored = [k for k, (_, r) in pending.items() if r is None or r.score is None]
    if unscored:
        raise IncompleteRating(f"give a score on every scale before submitting (missing: {', '.join(unscored)})")
    stamp = now()
    for key, (_, rating) in pending.items():
        rating.status, rating.submitted_at, rating.updated_at = "submitted", stamp, stamp
        db.flush()
        audit.record(db, actor, "rating.submit", "rating", rating.id, new=values(rating, key, actor, code))
    if certification.is_training(db, assignment.recording_id):
        certification.settle(db, [db.get(Account, assignment.account_id)], [s.id for s, _ in pending.values()])
    return True


@audit.refusals("refused.reopen", "rating", entity_id="code")
def reopen(store: Store, pi: Account, code: str, coder: str, scale_key: str, reason: str) -> int:
    """Reopen a submitted rating for its coder to change; returns the new version number."""
    require_role(pi, "pi")
    if not reason.strip():
        raise ValueError("reopening a rating needs a reason")
    with store.write() as db:
        found = db.execute(
            select(Assignment, ScaleRow)
            .join(Recording, Recording.id == Assignment.recording_id)
            .join(Account, Account.id == Assignment.account_id)
            .join(AssignmentScale, AssignmentScale.assignment_id == Assignment.id)
            .join(ScaleRow, ScaleRow.id == AssignmentScale.scale_id)
            .where(Recording.code == code, Account.name == coder, ScaleRow.key == scale_key)
        ).first()
        rating = found and current(db, found[0].id, found[1].id)
        if rating is None or rating.status != "submitted":
            raise NotFound(f"no submitted rating of {code} by {coder} on {scale_key}")
        refuse_closed(db, [rating.scale_id], "reopening")
        reopened = Rating(
            assignment_id=rating.assignment_id,
            scale_id=rating.scale_id,
            version=rating.version + 1,
            score=rating.score,
            notes=rating.notes,
            status="draft",
            source=rating.source,
            reopened_by=pi.name,
            reopen_reason=reason.strip(),
        )
        db.add(reopened)
        db.flush()
        audit.record(
            db,
            pi.name,
            "rating.reopen",
            "rating",
            reopened.id,
            old=values(rating, scale_key, coder, code),
            new=values(reopened, scale_key, coder, code),
            reason=reason.strip(),
        )
        return reopened.version


def submitted_ratings(db: Session) -> pd.DataFrame:
    """The latest submitted version of every rating, by recording code: no unblinding key."""
    rows: list[Row] = db.execute(
        select(
            Recording.id.label("recording"),
            Recording.code,
            Recording.kind,
            Account.name.label("coder"),
            ScaleRow.key.label("scale"),
            Rating.score,
            Rating.version,
            Rating.submitted_at,
            Rating.source,
            func.coalesce(func.nullif(Rating.notes, ""), Note.text, "").label("notes"),
        )
        .where(latest_submitted())
        .join(Assignment, Assignment.id == Rating.assignment_id)
        .join(Account, Account.id == Assignment.account_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .join(ScaleRow, ScaleRow.id == Rating.scale_id)
        .outerjoin(Note, Note.assignment_id == Assignment.id)
        .order_by(Recording.code, Account.name, ScaleRow.id)
    ).all()
    columns = ["recording", "code", "kind", "coder", "scale", "score", "version", "submitted_at", "source", "notes"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


# Digits-only day, month and year (03/04/2023): 3 April in the UK, 4 March in the US.
_NUMERIC_DATE = re.compile(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_EXCEL_SERIAL = re.compile(r"\d+(\.\d*)?")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def _rated_at(text: str) -> datetime:
    """When a rating was made, in UTC: an ISO date(-time), an Excel date cell, or an Excel serial day number.

    Digits-only day/month orders are refused rather than guessed: a wrong guess would be silent.
    A time without a zone is taken as UTC, like every time the store keeps (SQLite would otherwise
    drop a zone, PostgreSQL read the server's). A date in the future is a slip. Raises ValueError
    saying why.
    """
    if _NUMERIC_DATE.match(text):
        raise ValueError(f"{text!r} could be day/month or month/day: write it as YYYY-MM-DD")
    try:
        stamp = (
            _EXCEL_EPOCH + pd.to_timedelta(float(text), unit="D")
            if _EXCEL_SERIAL.fullmatch(text)
            else pd.Timestamp(text)
        )
    except (ValueError, OverflowError):
        stamp = pd.NaT
    if stamp is pd.NaT:
        raise ValueError(f"{text!r} is not a date (write it as YYYY-MM-DD, with the time if known)")
    stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if stamp > pd.Timestamp.now(tz="UTC"):
        raise ValueError(f"{text!r} is in the future")
    return stamp.to_pydatetime()


@dataclass(frozen=True)
class _ImportRow:
    """One row of a ratings file that names a recording, a coder and a scale the study has."""

    row: int
    recording: Recording
    account: Account
    scale: ScaleRow
    score: float | None
    rated_at: datetime | None
    notes: str
    new: bool  # False: the same rating is already there, and re-importing it changes nothing


class _RatingsCheck:
    """What a ratings file's rows are checked against, read once; collects every problem."""

    def __init__(self, db: Session) -> None:
        self.codebook = study_codebook(db)
        self.find_recording = recording_finder(db)
        self.accounts = {a.name: a for a in db.scalars(select(Account))}
        self.scales = {s.key: s for s in db.scalars(select(ScaleRow))}
        latest = db.execute(
            select(Assignment.recording_id, Assignment.account_id, Rating.scale_id, Rating.status, Rating.score)
            .join(Rating, Rating.assignment_id == Assignment.id)
            .order_by(Rating.version)
        ).all()
        self.latest = {(r, a, s): (status, score) for r, a, s, status, score in latest}
        self.seen: dict[tuple[int, int, int], int] = {}
        self.problems: list[str] = []

    def _found(self, row: int, field: str, value: str, thing: object | None, what: str) -> None:
        """Notes the row's problem when ``value`` is blank or names nothing (``thing`` is what it names)."""
        if not value:
            self.problems.append(f"row {row}: field '{field}' is blank")
        elif thing is None:
            self.problems.append(f"row {row}: field '{field}': {value!r} is not {what}")

    def _named(self, row: int, record: pd.Series) -> tuple[Recording | None, Account | None, ScaleRow | None]:
        """The recording, coder and scale the row names, each checked on its own and against the others."""
        given = record["recording_id"]
        recording = self.find_recording(given)
        account, scale = self.accounts.get(record["coder"]), self.scales.get(record["scale"])
        self._found(row, "recording_id", given, recording, "a recording in the study")
        self._found(row, "coder", record["coder"], account, "an account")
        self._found(row, "scale", record["scale"], scale, "a scale in the codebook")
        if account is not None and account.has_role("pi"):
            self.problems.append(f"row {row}: field 'coder': {account.name!r} is a PI account, not a coder")
        elif account is not None and recording is not None and not account.has_role(ROLE_FOR_KIND[recording.kind]):
            self.problems.append(
                f"row {row}: field 'coder': {account.name!r} has the {account.role_text} role; "
                f"{recording.kind} recordings go to {ROLE_FOR_KIND[recording.kind]} accounts"
            )
        if scale is not None and recording is not None and scale.kind != recording.kind:
            self.problems.append(
                f"row {row}: field 'scale': {scale.key} rates {scale.kind} recordings, not {recording.kind}"
            )
        return recording, account, scale

    def _score(self, row: int, text: str, scale: ScaleRow) -> float | None:
        """The score as a level of the scale's grid, or None with the row's problem noted."""
        grid = self.codebook[scale.key].scale
        try:
            return grid.level(text or None, f"row {row}: field 'score'")
        except ScoreError as error:
            self.problems.append(str(error))
            return None

    def _when(self, row: int, text: str) -> datetime | None:
        """When the rating was made (None: not given, or refused with the row's problem noted)."""
        try:
            return _rated_at(text) if text else None
        except ValueError as error:
            self.problems.append(f"row {row}: field 'rated_at': {error}")
            return None

    def _notes(self, row: int, text: str) -> str:
        try:
            return clean_notes(text)
        except NotesRefused as error:
            self.problems.append(f"row {row}: field 'notes': {error}")
            return ""

    def row(self, row: int, record: pd.Series) -> _ImportRow | None:
        """Every problem of one row noted; the row itself when it names a recording, coder and scale."""
        recording, account, scale = self._named(row, record)
        score = self._score(row, record["score"], scale) if scale is not None else None
        rated_at = self._when(row, record.get("rated_at", ""))
        if recording is None or account is None or scale is None:
            return None
        key = (recording.id, account.id, scale.id)
        if key in self.seen:
            self.problems.append(f"row {row}: the same recording, coder and scale as row {self.seen[key]}")
        self.seen.setdefault(key, row)
        existing = self.latest.get(key)
        if existing is not None and score is not None and existing != ("submitted", score):
            self.problems.append(
                f"row {row}: {account.name} already has a different rating of this recording on "
                f"{scale.key}; a PI reopens and changes it instead"
            )
        return _ImportRow(
            row, recording, account, scale, score, rated_at, self._notes(row, record.get("notes", "")), existing is None
        )


def _add_imported(db: Session, entry: _ImportRow, actor: str) -> None:
    """Write one checked, new row as a submitted rating marked as imported, assigning it if need be."""
    account, recording, scale = entry.account, entry.recording, entry.scale
    assignment = db.scalar(
        select(Assignment).where(Assignment.account_id == account.id, Assignment.recording_id == recording.id)
    )
    if assignment is None:
        [assignment] = enqueue(db, account.id, [recording.id])
    if db.get(AssignmentScale, (assignment.id, scale.id)) is None:
        db.add(AssignmentScale(assignment_id=assignment.id, scale_id=scale.id))
        db.flush()
    stamp = entry.rated_at or now()
    rating = Rating(
        assignment_id=assignment.id,
        scale_id=scale.id,
        version=1,
        score=entry.score,
        notes=entry.notes,
        status="submitted",
        source="import",
        created_at=stamp,
        updated_at=stamp,
        submitted_at=stamp,
    )
    db.add(rating)
    db.flush()
    audit.record(
        db, actor, "rating.import", "rating", rating.id, new=values(rating, scale.key, account.name, recording.code)
    )


def import_ratings(store: Store, path: Path, actor: str) -> int:
    """Bring in ratings made elsewhere (e.g. a pilot coded on paper), all or nothing.

    Columns: recording_id (the manifest's id, or the opaque code), coder (an account), scale,
    score; optional rated_at (ISO or Excel date) and notes. Each becomes a submitted rating
    marked as imported; the coder's assignment is created if it is not there. A rating that
    exists with the same score is left as it is (re-importing changes nothing); a different
    score is refused: a PI reopens and changes it instead. Returns how many were added.
    """
    table = read_columns(path, IMPORT_COLUMNS)
    with store.write() as db:
        check = _RatingsCheck(db)
        entries = [check.row(row, record) for row, record in table.iterrows()]
        if check.problems:
            raise ImportRefused(path.name, check.problems)
        new = [entry for entry in entries if entry is not None and entry.new]
        refuse_closed(db, {entry.scale.id for entry in new}, f"importing {path.name}")
        for entry in new:
            _add_imported(db, entry, actor)
        return len(new)
