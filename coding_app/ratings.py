"""Ratings: drafts, submission, reopening by a PI, and ratings made elsewhere.

A rating is a draft until submitted, and a submitted version never changes (the database
refuses). A PI reopening it adds the next version, a draft carrying the last score, with who
and why. Every change is an audit row carrying the full new values, so the log replays to the
current ratings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from reliability import ScoreError

from . import audit
from .accounts import ROLE_FOR_KIND, require_role
from .errors import ImportRefused, NotFound
from .recordings import same_id
from .spreadsheet import read_table
from .store import Store
from .store.models import Account, Assignment, AssignmentScale, Rating, Recording, RecordingKey, ScaleRow, now
from .study import study_codebook, study_scales

IMPORT_COLUMNS = ("recording_id", "coder", "scale", "score")


class RatingLocked(RuntimeError):
    """The rating was submitted (here or in another window) and is locked."""


class IncompleteRating(ValueError):
    """Submission refused: a scale has no score yet."""


@dataclass(frozen=True)
class RatingState:
    scale: str
    score: float | None
    notes: str
    status: str
    version: int
    updated_at: datetime


def values(rating: Rating, scale_key: str, coder: str, code: str) -> dict:
    """What an audit row keeps of a rating: enough to rebuild it."""
    return {
        "recording": code, "coder": coder, "scale": scale_key, "version": rating.version, "score": rating.score,
        "notes": rating.notes, "status": rating.status, "source": rating.source,
        "submitted_at": rating.submitted_at,
    }  # fmt: skip


def current(db: Session, assignment_id: int, scale_id: int) -> Rating | None:
    """The latest version of one coder's rating of one recording on one scale."""
    return db.scalar(
        select(Rating)
        .where(Rating.assignment_id == assignment_id, Rating.scale_id == scale_id)
        .order_by(Rating.version.desc())
        .limit(1)
    )


def save_draft(
    db: Session, assignment: Assignment, scale: ScaleRow, score: float | None, notes: str, actor: str, code: str
) -> Rating:
    """Create or update the draft; a submitted rating raises :class:`RatingLocked`."""
    if score is not None:
        definition = study_scales(db)[scale.key]
        score = float(definition.scale.levels[definition.scale.index([score], lambda _: scale.key)[0]])
    rating = current(db, assignment.id, scale.id)
    old = None
    if rating is None:
        rating = Rating(assignment_id=assignment.id, scale_id=scale.id, version=1, score=score, notes=notes,
                        status="draft", source="app")  # fmt: skip
        db.add(rating)
    elif rating.status == "submitted":
        raise RatingLocked("this rating has been submitted and is locked")
    else:
        old = values(rating, scale.key, actor, code)
        if (rating.score, rating.notes) == (score, notes):
            return rating
        rating.score, rating.notes, rating.updated_at = score, notes, now()
    db.flush()
    audit.record(db, actor, "rating.draft", "rating", rating.id, old=old, new=values(rating, scale.key, actor, code))
    return rating


def submit(db: Session, assignment: Assignment, actor: str, code: str) -> bool:
    """Submit every scale of one assignment together; False when it was already submitted."""
    rows = db.execute(
        select(ScaleRow).join(AssignmentScale, AssignmentScale.scale_id == ScaleRow.id)
        .where(AssignmentScale.assignment_id == assignment.id).order_by(ScaleRow.id)
    ).scalars().all()  # fmt: skip
    latest = {scale.key: (scale, current(db, assignment.id, scale.id)) for scale in rows}
    pending = {k: (s, r) for k, (s, r) in latest.items() if r is None or r.status != "submitted"}
    if not pending:
        return False
    unscored = [k for k, (_, r) in pending.items() if r is None or r.score is None]
    if unscored:
        raise IncompleteRating(f"give a score on every scale before submitting (missing: {', '.join(unscored)})")
    stamp = now()
    for key, (_, rating) in pending.items():
        rating.status, rating.submitted_at, rating.updated_at = "submitted", stamp, stamp
        db.flush()
        audit.record(db, actor, "rating.submit", "rating", rating.id, new=values(rating, key, actor, code))
    return True


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
        reopened = Rating(
            assignment_id=rating.assignment_id, scale_id=rating.scale_id, version=rating.version + 1,
            score=rating.score, notes=rating.notes, status="draft", source=rating.source,
            reopened_by=pi.name, reopen_reason=reason.strip(),
        )  # fmt: skip
        db.add(reopened)
        db.flush()
        audit.record(db, pi.name, "rating.reopen", "rating", reopened.id, old=values(rating, scale_key, coder, code),
                     new=values(reopened, scale_key, coder, code), reason=reason.strip())  # fmt: skip
        return reopened.version


def submitted_ratings(db: Session) -> pd.DataFrame:
    """The latest submitted version of every rating, by recording code: no unblinding key."""
    latest = (
        select(Rating.assignment_id, Rating.scale_id, func.max(Rating.version).label("version"))
        .where(Rating.status == "submitted")
        .group_by(Rating.assignment_id, Rating.scale_id)
        .subquery()
    )
    rows: list[Row] = db.execute(
        select(Recording.id.label("recording"), Recording.code, Recording.kind, Account.name.label("coder"),
               ScaleRow.key.label("scale"), Rating.score, Rating.version, Rating.submitted_at, Rating.source, Rating.notes)
        .join(latest, (Rating.assignment_id == latest.c.assignment_id) & (Rating.scale_id == latest.c.scale_id)
              & (Rating.version == latest.c.version))
        .join(Assignment, Assignment.id == Rating.assignment_id)
        .join(Account, Account.id == Assignment.account_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .join(ScaleRow, ScaleRow.id == Rating.scale_id)
        .order_by(Recording.code, Account.name, ScaleRow.id)
    ).all()  # fmt: skip
    columns = ["recording", "code", "kind", "coder", "scale", "score", "version", "submitted_at", "source", "notes"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)


def _rated_at(text: str) -> datetime | None:
    """An ISO date-time or an Excel serial day number, as spreadsheets give them."""
    if text.replace(".", "", 1).isdigit():
        return (pd.Timestamp("1899-12-30") + pd.to_timedelta(float(text), unit="D")).to_pydatetime()
    return pd.Timestamp(text).to_pydatetime()


def import_ratings(store: Store, path: Path, actor: str) -> int:
    """Bring in ratings made elsewhere (e.g. a pilot coded on paper), all or nothing.

    Columns: recording_id (the manifest's id, or the opaque code), coder (an account), scale,
    score; optional rated_at (ISO or Excel date) and notes. Each becomes a submitted rating
    marked as imported; the coder's assignment is created if it is not there. A rating that
    exists with the same score is left as it is (re-importing changes nothing); a different
    score is refused: a PI reopens and changes it instead. Returns how many were added.
    """
    table = read_table(path)
    missing = [c for c in IMPORT_COLUMNS if c not in table.columns]
    if missing:
        raise ImportRefused(path.name, [f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing"])
    problems: list[str] = []
    with store.write() as db:
        codebook = study_codebook(db)
        recordings = {r.code: r for r in db.scalars(select(Recording))}
        by_external = {same_id(k.external_id): k.recording_id for k in db.scalars(select(RecordingKey))}
        by_id = {r.id: r for r in recordings.values()}
        accounts = {a.name: a for a in db.scalars(select(Account))}
        scales = {s.key: s for s in db.scalars(select(ScaleRow))}
        seen: dict[tuple, int] = {}
        accepted = []
        for row, record in table.iterrows():
            def problem(text: str, row: int = row) -> None:
                problems.append(f"row {row}: {text}")

            recording = recordings.get(record["recording_id"]) or by_id.get(by_external.get(same_id(record["recording_id"])))
            account, scale = accounts.get(record["coder"]), scales.get(record["scale"])
            if recording is None:
                problem(f"field 'recording_id': {record['recording_id']!r} is not a recording in the study")
            if account is None:
                problem(f"field 'coder': no account named {record['coder']!r}")
            elif account.role == "pi":
                problem(f"field 'coder': {record['coder']!r} is a PI account, not a coder")
            elif recording is not None and ROLE_FOR_KIND[recording.kind] != account.role:
                problem(f"field 'coder': {record['coder']!r} has the {account.role} role; {recording.kind} "
                        f"recordings go to {ROLE_FOR_KIND[recording.kind]} accounts")  # fmt: skip
            if scale is None:
                problem(f"field 'scale': no scale {record['scale']!r} in the codebook")
            elif recording is not None and scale.kind != recording.kind:
                problem(f"field 'scale': {scale.key} rates {scale.kind} recordings, not {recording.kind}")
            score = None
            if scale is not None:
                grid = codebook[scale.key].scale
                try:
                    score = float(grid.levels[grid.index([record["score"] or None], lambda _: "field 'score'")[0]])
                except ScoreError as error:
                    problem(str(error))
            rated_at = None
            if record.get("rated_at", ""):
                try:
                    rated_at = _rated_at(record["rated_at"])
                except (ValueError, OverflowError):
                    problem(f"field 'rated_at': {record['rated_at']!r} is not a date")
            if recording is not None and account is not None and scale is not None:
                key = (recording.id, account.id, scale.id)
                if key in seen:
                    problem(f"the same recording, coder and scale as row {seen[key]}")
                seen.setdefault(key, row)
                accepted.append((row, recording, account, scale, score, rated_at, record.get("notes", "")))
        added = 0
        for row, recording, account, scale, score, rated_at, notes in accepted if not problems else []:
            assignment = db.scalar(select(Assignment).where(Assignment.account_id == account.id,
                                                            Assignment.recording_id == recording.id))  # fmt: skip
            if assignment is None:
                last = db.scalar(select(func.max(Assignment.position)).where(Assignment.account_id == account.id)) or 0
                assignment = Assignment(account_id=account.id, recording_id=recording.id, position=last + 1)
                db.add(assignment)
                db.flush()
            if db.get(AssignmentScale, (assignment.id, scale.id)) is None:
                db.add(AssignmentScale(assignment_id=assignment.id, scale_id=scale.id))
                db.flush()
            existing = current(db, assignment.id, scale.id)
            if existing is not None:
                if existing.status != "submitted" or existing.score != score:
                    problems.append(f"row {row}: {account.name} already has a different rating of this recording "
                                    f"on {scale.key}; a PI reopens and changes it instead")  # fmt: skip
                continue
            stamp = rated_at or now()
            rating = Rating(assignment_id=assignment.id, scale_id=scale.id, version=1, score=score, notes=notes,
                            status="submitted", source="import", created_at=stamp, updated_at=stamp, submitted_at=stamp)  # fmt: skip
            db.add(rating)
            db.flush()
            audit.record(db, actor, "rating.import", "rating", rating.id,
                         new=values(rating, scale.key, account.name, recording.code))  # fmt: skip
            added += 1
        if problems:
            raise ImportRefused(path.name, problems)
        return added
