"""A coder's "cannot code this recording" (a flag), and the PI's decision on it.

The coder raises a flag through the coders' door (:func:`coding_app.blinded.flag`): the recording leaves that
coder's queue until the PI decides. The PI clears it (the recording is back in that queue, at its place) or
excludes the recording from the study: an :class:`~coding_app.store.models.Exclusion` (cause "flag", its ratings
out of the analysis) takes it out of every coder's queue for good and settles every open flag on it. Each step is
audited with the recording's opaque code and the words typed, nothing of the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import SQLColumnExpression, exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from . import audit
from .accounts import require_role
from .errors import NotFound
from .exclusions import in_coding
from .lock import refuse_closed
from .ratings import clean_notes
from .store import Store
from .store.models import FLAG_REASONS, Account, Assignment, Exclusion, Flag, Recording, ScaleRow, now

REASONS = {
    "no_picture": "No picture",
    "no_sound": "No sound",
    "wrong_recording": "Wrong recording (another family)",
    "not_the_task": "Wrong task (not what is to be coded)",
    "other": "Something else (say what)",
}
"""Each of :data:`~coding_app.store.models.FLAG_REASONS` as the coder and the PI read it."""
TEXT_LIMIT = 2_000
"""Characters of what the coder (or the PI) writes about a flag: a few sentences, not notes."""


class FlagRefused(ValueError):
    """Refused: the flag or the decision is not possible as asked; the message says why."""


@dataclass(frozen=True)
class FlagShown:
    """A flag as the PI reads it."""

    id: int
    code: str
    kind: str
    coder: str
    reason: str
    """In words (:data:`REASONS`)."""
    text: str
    raised_at: datetime


def open_on(assignment_id: SQLColumnExpression[int]) -> ColumnElement[bool]:
    """True for an assignment with an open flag: out of its coder's queue until the PI decides."""
    return exists().where(Flag.assignment_id == assignment_id, Flag.resolution.is_(None))


def _text(text: str, what: str) -> str:
    text = text.strip()
    if len(text) > TEXT_LIMIT:
        raise FlagRefused(
            f"{what} is limited to {TEXT_LIMIT:,} characters; this has {len(text):,}: "
            f"shorten it by {len(text) - TEXT_LIMIT:,}"
        )
    return clean_notes(text)  # the same repair as notes (half an emoji from a browser); the limit above is shorter


def checked(reason: str, text: str) -> str:
    """A coder's flag as it can be kept: the text cleaned; refused (:class:`FlagRefused`) for a reason not on
    the list, "other" without words, or too long a text."""
    if reason not in FLAG_REASONS:
        raise FlagRefused(f"no reason {reason!r}: choose one of {', '.join(FLAG_REASONS)}")
    text = _text(text, "what you write about the recording")
    if reason == "other" and not text:
        raise FlagRefused(f'say what is wrong: "{REASONS["other"]}" needs a few words')
    return text


def raise_flag(db: Session, assignment: Assignment, reason: str, text: str, actor: str, code: str) -> None:
    """Keep a coder's flag (reason and text as :func:`checked` gives them) in the door's transaction, audited."""
    flag = Flag(assignment_id=assignment.id, reason=reason, text=text, resolution_note="")
    db.add(flag)
    db.flush()
    audit.record(
        db,
        actor,
        "flag.raise",
        "flag",
        flag.id,
        new={"recording": code, "coder": actor, "reason": reason, "text": text, "raised_at": flag.raised_at},
    )


def _shown(flag: Flag, code: str, kind: str, coder: str) -> FlagShown:
    return FlagShown(flag.id, code, kind, coder, REASONS[flag.reason], flag.text, flag.raised_at)


def _flags():
    return (
        select(Flag, Recording.code, Recording.kind, Account.name)
        .join(Assignment, Assignment.id == Flag.assignment_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .join(Account, Account.id == Assignment.account_id)
    )


@audit.refusals("refused.flag", "flag")
def open_flags(store: Store, pi: Account) -> list[FlagShown]:
    """The flags waiting for the PI's decision, oldest first (a flag on a recording already excluded waits for
    nothing)."""
    require_role(pi, "pi")
    with store.read() as db:
        rows = db.execute(
            _flags().where(Flag.resolution.is_(None), in_coding(Recording.id)).order_by(Flag.raised_at, Flag.id)
        ).all()
    return [_shown(*row) for row in rows]


def _deciding(db: Session, flag_id: int) -> tuple[Flag, Recording, str]:
    """The open flag to decide, locked against another decision on it; refused if it is decided already."""
    found = db.execute(
        select(Flag, Recording, Account.name)
        .join(Assignment, Assignment.id == Flag.assignment_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .join(Account, Account.id == Assignment.account_id)
        .where(Flag.id == flag_id)
        .with_for_update(of=Flag)
    ).first()
    if found is None:
        raise NotFound(f"no flag {flag_id}")
    flag, recording, coder = found
    if flag.resolution is not None:
        raise FlagRefused(
            f"the flag on recording {recording.code} was {flag.resolution} already, by {flag.resolved_by} "
            f"on {flag.resolved_at:%Y-%m-%d %H:%M} UTC: nothing changed"
        )
    excluded = db.get(Exclusion, recording.id)
    if excluded is not None:
        raise FlagRefused(
            f"recording {recording.code} was excluded from the study already, by {excluded.by} "
            f"on {excluded.at:%Y-%m-%d %H:%M} UTC: nothing changed"
        )
    return flag, recording, coder


def _settle(db: Session, flag: Flag, resolution: str, pi: Account, note: str, code: str, coder: str) -> None:
    flag.resolution, flag.resolved_by, flag.resolved_at, flag.resolution_note = resolution, pi.name, now(), note
    db.flush()
    audit.record(
        db,
        pi.name,
        f"flag.{'clear' if resolution == 'cleared' else 'exclude'}",
        "flag",
        flag.id,
        old={"resolution": None},
        new={"recording": code, "coder": coder, "resolution": resolution, "resolved_at": flag.resolved_at},
        reason=note or None,
    )


@audit.refusals("refused.flag", "flag", entity_id="flag_id")
def clear(store: Store, pi: Account, flag_id: int, note: str = "") -> FlagShown:
    """The PI clears a flag: the recording is back in its coder's queue, at its place. Returns the flag decided."""
    require_role(pi, "pi")
    note = _text(note, "the note")
    with store.write() as db:
        flag, recording, coder = _deciding(db, flag_id)
        _settle(db, flag, "cleared", pi, note, recording.code, coder)
        return _shown(flag, recording.code, recording.kind, coder)


@audit.refusals("refused.flag", "flag", entity_id="flag_id")
def exclude(store: Store, pi: Account, flag_id: int, reason: str) -> FlagShown:
    """The PI excludes the flagged recording from the study, with a reason: out of every coder's queue for good and
    its ratings out of the analysis; every open flag on it is settled. Refused while coding of its scales is locked
    (which ratings count would change after the lock). Returns the flag decided."""
    require_role(pi, "pi")
    reason = _text(reason, "the reason")
    if not reason:
        raise FlagRefused("excluding a recording from the study needs a reason (kept with it and in the audit log)")
    with store.write() as db:
        flag, recording, coder = _deciding(db, flag_id)
        refuse_closed(
            db, db.scalars(select(ScaleRow.id).where(ScaleRow.kind == recording.kind)), "excluding a recording"
        )
        db.add(Exclusion(recording_id=recording.id, cause="flag", ratings_count=False, reason=reason, by=pi.name))
        db.flush()
        audit.record(
            db,
            pi.name,
            "recording.exclude",
            "exclusion",
            recording.code,
            reason=reason,
            new={"recording": recording.code, "cause": "flag", "ratings_count": False, "flag": flag.id},
        )
        others = db.execute(_flags().where(Assignment.recording_id == recording.id, Flag.resolution.is_(None))).all()
        for other, code, _, other_coder in others:
            _settle(db, other, "excluded", pi, reason, code, other_coder)
        return _shown(flag, recording.code, recording.kind, coder)
