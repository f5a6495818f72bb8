"""Ratings made elsewhere (a pilot coded on paper, another tool) brought in from a spreadsheet, all or nothing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import audit, certification
from ..accounts import ROLE_FOR_KIND
from ..assignments import enqueue
from ..lock import refuse_closed
from ..ratings import NotesRefused, clean_notes, values
from ..spreadsheet import read_columns
from ..store import Store
from ..store.models import Account, Assignment, AssignmentScale, Rating, Recording, ScaleRow, now
from ..study import study_codebook
from .identifiers import recording_finder
from .rows import RowProblems

IMPORT_COLUMNS = ("recording_id", "coder", "scale", "score")


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
    """What a ratings file's rows are checked against, read once; ``problems`` collects every problem."""

    def __init__(self, db: Session, source: str) -> None:
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
        self.problems = RowProblems(source)

    def _named(self, row: int, record: pd.Series) -> tuple[Recording | None, Account | None, ScaleRow | None]:
        """The recording, coder and scale the row names, each checked on its own and against the others."""
        given = record["recording_id"]
        recording = self.problems.named(
            row, "recording_id", given, self.find_recording(given), "a recording in the study"
        )
        account = self.problems.named(row, "coder", record["coder"], self.accounts.get(record["coder"]), "an account")
        scale = self.problems.named(
            row, "scale", record["scale"], self.scales.get(record["scale"]), "a scale in the codebook"
        )
        if account is not None and account.has_role("pi"):
            self.problems.add(row, f"{account.name!r} is a PI account, not a coder", "coder")
        elif account is not None and recording is not None and not account.has_role(ROLE_FOR_KIND[recording.kind]):
            self.problems.add(
                row,
                f"{account.name!r} has the {account.role_text} role; "
                f"{recording.kind} recordings go to {ROLE_FOR_KIND[recording.kind]} accounts",
                "coder",
            )
        if scale is not None and recording is not None:
            self.problems.rates(row, scale, recording)
        return recording, account, scale

    def _when(self, row: int, text: str) -> datetime | None:
        """When the rating was made (None: not given, or refused with the row's problem noted)."""
        try:
            return _rated_at(text) if text else None
        except ValueError as error:
            self.problems.add(row, str(error), "rated_at")
            return None

    def _notes(self, row: int, text: str) -> str:
        try:
            return clean_notes(text)
        except NotesRefused as error:
            self.problems.add(row, str(error), "notes")
            return ""

    def row(self, row: int, record: pd.Series) -> _ImportRow | None:
        """Every problem of one row noted; the row itself when it names a recording, coder and scale."""
        recording, account, scale = self._named(row, record)
        score = self.problems.score(row, record["score"], self.codebook[scale.key].scale) if scale else None
        rated_at = self._when(row, record.get("rated_at", ""))
        if recording is None or account is None or scale is None:
            return None
        key = (recording.id, account.id, scale.id)
        self.problems.repeated_row(row, key, "recording, coder and scale")
        existing = self.latest.get(key)
        if existing is not None and score is not None and existing != ("submitted", score):
            self.problems.add(
                row,
                f"{account.name} already has a different rating of this recording on {scale.key}; "
                "a PI reopens and changes it instead",
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
    score is refused: a PI reopens and changes it instead. Ratings of training recordings count toward
    their coders' certification at once, as a submission does. Returns how many were added.
    """
    table = read_columns(path, IMPORT_COLUMNS)
    with store.write() as db:
        check = _RatingsCheck(db, path.name)
        entries = [check.row(row, record) for row, record in table.iterrows()]
        check.problems.refuse()
        new = [entry for entry in entries if entry is not None and entry.new]
        refuse_closed(db, {entry.scale.id for entry in new}, f"importing {path.name}")
        for entry in new:
            _add_imported(db, entry, actor)
        ids = certification.training_recordings(db)
        training = [entry for entry in new if entry.recording.id in ids]
        if training:
            certification.settle(
                db, list({e.account.id: e.account for e in training}.values()), list({e.scale.id for e in training})
            )
        return len(new)
