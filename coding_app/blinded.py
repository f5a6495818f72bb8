"""The one door for coders: every query that serves a rater or fidelity coder goes through here.

It reads only the blinded tables (a recording's opaque code, kind and media; the coder's own
assignments and ratings; the codebook) and returns plain values, never rows of the unblinding
key. It imports no model of the key, and the tests check both that and the SQL it sends. A
recording not assigned to the coder is reported exactly like one that does not exist; every
refusal at this door is audited (``refused.recording``). A recording the coder flagged as one they cannot code
(until the PI decides, :mod:`coding_app.flags`) or one excluded from the study (:mod:`coding_app.exclusions`) is
not served: it is refused like one not assigned, though the coder's submitted work on it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import EllipsisType

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from . import audit, flags, lock, playback, ratings
from .accounts import ROLE_FOR_KIND, require_role
from .codebook import ScaleDefinition
from .errors import NotFound
from .exclusions import in_coding
from .media import MediaStore
from .ratings import RatingState
from .store import Store
from .store.models import (
    Account,
    Assignment,
    AssignmentScale,
    PlaybackFacts,
    Rating,
    Recording,
    ScaleRow,
    latest_rating,
)
from .study import study_scales

CODER_ROLES = ("coder", "fidelity")
NOT_ASSIGNED = "no such recording in your queue"
# A coder asking for a recording not theirs (or a PI using the coders' door) is on record.
_door = audit.refusals("refused.recording", "recording", entity_id="code", of=(PermissionError, NotFound))


@dataclass(frozen=True)
class QueueItem:
    position: int
    """1-based place in this coder's own random order."""
    code: str
    kind: str
    status: str
    """"not started", "in progress" or "submitted"."""


@dataclass(frozen=True)
class Task:
    code: str
    kind: str
    media_type: str
    scales: list[ScaleDefinition]
    ratings: dict[str, RatingState]
    notes: str
    submitted: bool


@dataclass(frozen=True)
class Media:
    name: str
    media_type: str


def _check(account: Account) -> None:
    require_role(account, *CODER_ROLES)


def _kinds(account: Account) -> list[str]:
    """The kinds of recording this coder's roles code; anything else in their queue is not theirs."""
    return [kind for kind, role in ROLE_FOR_KIND.items() if account.has_role(role)]


def _served() -> ColumnElement[bool]:
    """True for an assignment still served: its recording is not excluded and its coder has no open flag on it."""
    return in_coding(Assignment.recording_id) & ~flags.open_on(Assignment.id)


def _assignment_query(account: Account, code: str) -> Select[Assignment, Recording]:
    """The coder's assignment of this recording, and the recording, if it is theirs and served."""
    return (
        select(Assignment, Recording)
        .join(Recording, Recording.id == Assignment.recording_id)
        .where(_served())
        .where(Assignment.account_id == account.id, Recording.code == code, Recording.kind.in_(_kinds(account)))
    )


def _found(row: Row | None) -> Row:
    if row is None:
        raise NotFound(NOT_ASSIGNED)
    return row


def _assignment(db: Session, account: Account, code: str) -> tuple[Assignment, Recording]:
    assignment, recording = _found(db.execute(_assignment_query(account, code)).first())
    return assignment, recording


@dataclass(frozen=True)
class _Draft:
    """What a draft save needs, asked in one query: the assignment, its recording, the scale (None unless the
    assignment codes it), the rating's latest version (None: none yet), and whether the scale is closed."""

    assignment: Assignment
    recording: Recording
    scale: ScaleRow | None
    rating: Rating | None
    closed: bool


def _draft(db: Session, account: Account, code: str, scale_key: str) -> _Draft:
    """See :class:`_Draft`; asked after the lock's table was taken, so ``closed`` is settled."""
    scale_id = select(ScaleRow.id).where(ScaleRow.key == scale_key).scalar_subquery()
    query = (
        _assignment_query(account, code)
        .add_columns(ScaleRow, Rating, lock.closed(AssignmentScale.scale_id))
        .outerjoin(
            AssignmentScale, (AssignmentScale.assignment_id == Assignment.id) & (AssignmentScale.scale_id == scale_id)
        )
        .outerjoin(ScaleRow, ScaleRow.id == AssignmentScale.scale_id)
        .outerjoin(
            Rating,
            (Rating.assignment_id == Assignment.id) & (Rating.scale_id == AssignmentScale.scale_id) & latest_rating(),
        )
    )
    return _Draft(*_found(db.execute(query).first()))


def _states(db: Session, assignment_ids: list[int]) -> dict[int, dict[str, RatingState]]:
    """The latest version of each of these assignments' ratings, by assignment and scale key."""
    rows = db.execute(
        select(Rating, ScaleRow.key)
        .join(ScaleRow, ScaleRow.id == Rating.scale_id)
        .where(Rating.assignment_id.in_(assignment_ids), latest_rating())
    ).all()
    states: dict[int, dict[str, RatingState]] = {}
    for rating, key in rows:
        states.setdefault(rating.assignment_id, {})[key] = RatingState(
            key, rating.score, rating.status, rating.version, rating.updated_at
        )
    return states


def _scale_keys(db: Session, assignment_ids: list[int]) -> dict[int, list[str]]:
    keys: dict[int, list[str]] = {}
    rows = db.execute(
        select(AssignmentScale.assignment_id, ScaleRow.key)
        .join(ScaleRow, ScaleRow.id == AssignmentScale.scale_id)
        .where(AssignmentScale.assignment_id.in_(assignment_ids))
        .order_by(ScaleRow.id)
    )
    for assignment_id, key in rows:
        keys.setdefault(assignment_id, []).append(key)
    return keys


def _status(keys: list[str], states: dict[str, RatingState]) -> str:
    if keys and all(k in states and states[k].status == "submitted" for k in keys):
        return "submitted"
    return "in progress" if states else "not started"


@_door
def queue(store: Store, account: Account) -> list[QueueItem]:
    """This coder's recordings in their own random order, with how far each has got."""
    _check(account)
    with store.read() as db:
        rows = db.execute(
            select(Assignment.id, Recording.code, Recording.kind)
            .join(Recording, Recording.id == Assignment.recording_id)
            .where(_served())
            .where(Assignment.account_id == account.id, Recording.kind.in_(_kinds(account)))
            .order_by(Assignment.position)
        ).all()
        ids = [r.id for r in rows]
        states, keys = _states(db, ids), _scale_keys(db, ids)
    return [
        QueueItem(i, r.code, r.kind, _status(keys.get(r.id, []), states.get(r.id, {})))
        for i, r in enumerate(rows, start=1)
    ]


def resume_code(items: list[QueueItem]) -> str | None:
    """Where to continue: the first recording in the queue not yet submitted."""
    return next((item.code for item in items if item.status != "submitted"), None)


@_door
def task(store: Store, account: Account, code: str) -> Task:
    """One recording as its coder sees it: media type, scales with anchors, own ratings so far."""
    _check(account)
    with store.read() as db:
        assignment, recording = _assignment(db, account, code)
        codebook = study_scales(db)
        keys = _scale_keys(db, [assignment.id]).get(assignment.id, [])
        states = _states(db, [assignment.id]).get(assignment.id, {})
        notes = ratings.notes_of(db, assignment.id)
    return Task(
        recording.code,
        recording.kind,
        recording.media_type,
        [codebook[k] for k in keys],
        states,
        notes,
        _status(keys, states) == "submitted",
    )


@_door
def media(store: Store, account: Account, code: str) -> Media:
    """The stored media file behind one of this coder's recordings (opaque name only)."""
    _check(account)
    with store.read() as db:
        _, recording = _assignment(db, account, code)
    return Media(recording.media_name, recording.media_type)


@_door
def playback_facts(store: Store, account: Account, code: str, media: MediaStore) -> playback.Facts:
    """The player's facts of one of this coder's recordings (frame rate, sound envelope).

    Measured at import; a recording imported before that is measured here, once, from its stored file.
    """
    _check(account)
    with store.read() as db:
        _, recording = _assignment(db, account, code)
        kept = db.get(PlaybackFacts, recording.id)
        if kept is not None:
            return playback.Facts(kept.frame_rate, kept.peaks_per_second, kept.peaks)
    facts = playback.measure(media.path(recording.media_name))
    with store.write() as db:
        playback.keep(db, recording.id, facts)
    return facts


@_door
def save_draft(
    store: Store,
    account: Account,
    code: str,
    scale_key: str,
    score: float | None,
    *,
    expected: float | None | EllipsisType = ...,
) -> RatingState:
    """Save this coder's draft score on one scale, if the stored one is still ``expected``.

    Refused once submitted (:class:`~coding_app.ratings.RatingLocked`) or when another window
    changed it (:class:`~coding_app.ratings.RatingChanged`); see :func:`coding_app.ratings.save_draft`.
    """
    _check(account)
    with store.write(holding=lock.TABLE) as db:
        draft = _draft(db, account, code, scale_key)
        scale = draft.scale
        if scale is None:
            raise NotFound(f"scale {scale_key!r} is not part of this recording's coding")
        rating = ratings.save_draft(
            db,
            draft.assignment,
            scale,
            draft.rating,
            score,
            account.name,
            draft.recording.code,
            closed=draft.closed,
            expected=expected,
        )
        return RatingState(scale.key, rating.score, rating.status, rating.version, rating.updated_at)


@_door
def save_notes(store: Store, account: Account, code: str, text: str, *, expected: str | EllipsisType = ...) -> str:
    """Save this coder's notes on a recording (one text for all its scales); returns them as stored.

    Refused when too long (:class:`~coding_app.ratings.NotesRefused`), once submitted, or when
    another window changed them; see :func:`coding_app.ratings.save_notes`.
    """
    _check(account)
    text = ratings.clean_notes(text)  # refused before the database is asked, so an outage keeps only what can be saved
    with store.write() as db:
        assignment, recording = _assignment(db, account, code)
        return ratings.save_notes(db, assignment, text, account.name, recording.code, expected=expected)


@_door
def submit(store: Store, account: Account, code: str, *, shown: Mapping[str, float] | None = None) -> bool:
    """Submit this coder's ratings of a recording; False if they were submitted already.

    With ``shown`` (the scores on the confirming screen), refused unless they are exactly the
    stored ones (:class:`~coding_app.ratings.RatingChanged`).
    """
    _check(account)
    with store.write() as db:
        assignment, recording = _assignment(db, account, code)
        return ratings.submit(db, assignment, account.name, recording.code, shown=shown)


@_door
def flag(store: Store, account: Account, code: str, reason: str, text: str = "") -> None:
    """Say this coder cannot code this recording: a reason of :data:`~coding_app.store.models.FLAG_REASONS` and what
    they see (needed for "other"). It leaves their queue until the PI clears the flag or excludes the recording.

    Refused (:class:`~coding_app.flags.FlagRefused`) once submitted, or for a reason or text
    :func:`coding_app.flags.checked` refuses; drafts and notes stay as they are.
    """
    _check(account)
    text = flags.checked(reason, text)  # refused before the database is asked, like notes
    with store.write() as db:
        assignment, recording = _assignment(db, account, code)
        keys = _scale_keys(db, [assignment.id]).get(assignment.id, [])
        if _status(keys, _states(db, [assignment.id]).get(assignment.id, {})) == "submitted":
            raise flags.FlagRefused("this recording has been submitted: it cannot be flagged (the PI can reopen it)")
        flags.raise_flag(db, assignment, reason, text, account.name, recording.code)


@_door
def coding_closed(store: Store, account: Account, code: str | None = None) -> str | None:
    """Why this coder cannot code (one recording, or anything in their queue) just now, or None.

    The database lock's scope and date only: a lock names no recording or participant.
    """
    _check(account)
    with store.read() as db:
        assignments = (
            [_assignment(db, account, code)[0].id]
            if code is not None
            else list(
                db.scalars(
                    select(Assignment.id)
                    .join(Recording, Recording.id == Assignment.recording_id)
                    .where(_served())
                    .where(Assignment.account_id == account.id, Recording.kind.in_(_kinds(account)))
                )
            )
        )
        keys = {key for scale_keys in _scale_keys(db, assignments).values() for key in scale_keys}
        closed = lock.closing(db, sorted(keys))
        labels = dict(db.execute(select(ScaleRow.key, ScaleRow.label).where(ScaleRow.key.in_(keys))).all())
    if not closed:
        return None
    return "Coding is closed: " + "; ".join(dict.fromkeys(c.describe(labels) for c in closed.values())) + "."
