"""Ratings: drafts, submission and reopening by a PI.

A rating is a draft until submitted, and a submitted version never changes (the database
refuses). A PI reopening it adds the next version, a draft carrying the last score, with who
and why. Every change is an audit row carrying the full new values, so the log replays to the
current ratings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import EllipsisType

import pandas as pd
from sqlalchemy import Row, func, select, true
from sqlalchemy.orm import Session

from . import audit, certification
from .accounts import require_role
from .errors import NotFound
from .exclusions import counted
from .lock import refuse_closed
from .store import Store
from .store.models import (
    Account,
    Assignment,
    AssignmentScale,
    Note,
    Rating,
    Recording,
    ScaleRow,
    latest_rating,
    latest_submitted,
    now,
    rating_rows,
)
from .study import scale_definition

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


def latest(db: Session, assignment_id: int) -> dict[int, Rating]:
    """The latest version of each of one coder's ratings of one recording, by scale id."""
    found = db.scalars(select(Rating).where(Rating.assignment_id == assignment_id, latest_rating()))
    return {rating.scale_id: rating for rating in found}


def save_draft(
    db: Session,
    assignment: Assignment,
    scale: ScaleRow,
    rating: Rating | None,
    score: float | None,
    actor: str,
    code: str,
    *,
    closed: bool,
    expected: float | None | EllipsisType = ...,
) -> Rating:
    """Create or update the draft score; a submitted rating raises :class:`RatingLocked`.

    ``rating`` is the latest version of this rating (None: none yet) and ``closed`` whether its
    scale is closed (:func:`coding_app.lock.closed`), both read by the caller in this transaction,
    after the lock's table was taken (``store.write(holding=lock.TABLE)``): a draft save is the
    most frequent write, and each is a round trip fewer that way.

    ``expected`` is the score the coder's window showed before this change (None: blank). If
    the stored draft differs (another window changed it), nothing is saved and
    :class:`RatingChanged` says what is stored: a compare-and-set, so one window never
    overwrites what it has not seen. ``...`` (the default) skips the check, for callers that
    show nothing.
    """
    if score is not None:  # on the grid of the scale row at hand: the study's other scales are not needed
        score = scale_definition(scale).scale.level(score, scale.key)
    if closed:
        refuse_closed(db, [scale.id], "a draft")  # raises, naming the lock
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
    scale_ids = list(db.scalars(select(AssignmentScale.scale_id).where(AssignmentScale.assignment_id == assignment_id)))
    found = latest(db, assignment_id)
    return bool(scale_ids) and all(s in found and found[s].status == "submitted" for s in scale_ids)


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
    found = latest(db, assignment.id)
    versions = {scale.key: (scale, found.get(scale.id)) for scale in rows}
    pending = {k: (s, r) for k, (s, r) in versions.items() if r is None or r.status != "submitted"}
    if not pending:
        return False
    refuse_closed(db, [scale.id for scale, _ in pending.values()], "a submission")
    stored = {key: None if rating is None else rating.score for key, (_, rating) in versions.items()}
    if shown is not None and stored != dict(shown):
        raise RatingChanged(stored)
    scored = {k: r for k, (_, r) in pending.items() if r is not None and r.score is not None}
    unscored = [k for k in pending if k not in scored]
    if unscored:
        raise IncompleteRating(f"give a score on every scale before submitting (missing: {', '.join(unscored)})")
    stamp = now()
    for key, rating in scored.items():
        rating.status, rating.submitted_at, rating.updated_at = "submitted", stamp, stamp
        db.flush()
        audit.record(db, actor, "rating.submit", "rating", rating.id, new=values(rating, key, actor, code))
    if certification.is_training(db, assignment.recording_id):
        certification.settle(db, [db.get_one(Account, assignment.account_id)], [s.id for s, _ in pending.values()])
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
        rating = found and latest(db, found[0].id).get(found[1].id)
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


def submitted_ratings(db: Session, *, counted_only: bool = False) -> pd.DataFrame:
    """The latest submitted version of every rating, by recording code: no unblinding key. ``counted_only``
    leaves out the recordings whose ratings do not count (:func:`coding_app.exclusions.counted`)."""
    rows: Sequence[Row] = db.execute(
        rating_rows(
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
        .where(latest_submitted(), counted(Recording.id) if counted_only else true())
        .outerjoin(Note, Note.assignment_id == Assignment.id)
        .order_by(Recording.code, Account.name, ScaleRow.id)
    ).all()
    columns = ["recording", "code", "kind", "coder", "scale", "score", "version", "submitted_at", "source", "notes"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns)
