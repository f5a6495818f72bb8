"""The study's tables.

Blinded tables (what a coder's queries may touch): scale, scale_level, recording, assignment,
assignment_scale, rating, account, account_role, flag, exclusion. The unblinding key lives apart, in participant,
recording_key and withdrawal, and is read only through :mod:`coding_app.unblinding`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    Select,
    String,
    Text,
    UniqueConstraint,
    exists,
    false,
    select,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.ext.associationproxy import AssociationProxy, association_proxy
from sqlalchemy.ext.hybrid import hybrid_method
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, aliased, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

ROLES = ("coder", "fidelity", "pi")
RecordingKind = Literal["video", "audio"]
KINDS: tuple[RecordingKind, ...] = ("video", "audio")
RATING_STATUSES = ("draft", "submitted")
DRAW_PURPOSES = ("fidelity", "reliability")
# Why a coder cannot code a recording (labels in coding_app.flags); "other" needs its text.
FLAG_REASONS = ("no_picture", "no_sound", "wrong_recording", "not_the_task", "other")
FLAG_RESOLUTIONS = ("cleared", "excluded")
EXCLUSION_CAUSES = ("flag", "withdrawal")
# Scores are exact on their grid: two decimals hold any step a codebook uses (0.5, 0.25, 1).
Score = Numeric(6, 2, asdecimal=False)


def now() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class StudySetting(Base):
    """Study-wide settings from the codebook's [study] section (declared arms, timepoints)."""

    __tablename__ = "study_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)  # by key: a list of labels, a rule's fields, a word or a yes/no


class ScaleRow(Base):
    """A codebook scale as the database knows it, so that scores can be checked there too."""

    __tablename__ = "scale"
    __table_args__ = (
        CheckConstraint("high > low", name="range"),
        CheckConstraint("step > 0", name="step"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[RecordingKind] = mapped_column(String(8))
    low: Mapped[float] = mapped_column(Score)
    high: Mapped[float] = mapped_column(Score)
    step: Mapped[float] = mapped_column(Score)
    threshold: Mapped[float | None] = mapped_column(Score)
    classes: Mapped[list] = mapped_column(JSON)
    anchors: Mapped[dict] = mapped_column(JSON)


class ScaleLevel(Base):
    """Every score a scale allows; ratings reference it, so an off-grid score cannot be stored."""

    __tablename__ = "scale_level"
    scale_id: Mapped[int] = mapped_column(ForeignKey("scale.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Score, primary_key=True)


class Participant(Base):
    """Unblinding key: a mother in the trial, her site and allocation."""

    __tablename__ = "participant"
    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    site: Mapped[str] = mapped_column(String(100))
    arm: Mapped[str | None] = mapped_column(String(100))


class Recording(Base):
    """What a coder may know of a recording: an opaque code, its kind and its media file."""

    __tablename__ = "recording"
    __table_args__ = (CheckConstraint(_in("kind", KINDS), name="kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[RecordingKind] = mapped_column(String(8))
    media_name: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(64))


class PlaybackFacts(Base):
    """What the player needs of a recording's stored (blinded) media, measured once: its frame rate
    and a low-rate envelope of its sound. Derived from the media coders see, so it tells them nothing more."""

    __tablename__ = "playback_facts"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)
    frame_rate: Mapped[float | None] = mapped_column(Float)
    """Frames per second (the average, for a variable-rate file); None for audio."""
    peaks_per_second: Mapped[int] = mapped_column(Integer)
    peaks: Mapped[bytes] = mapped_column(LargeBinary)
    """The loudest sample of each 1/peaks_per_second s, one byte each (0-255); empty without sound."""


class RecordingKey(Base):
    """Unblinding key: who, when and where a recording comes from."""

    __tablename__ = "recording_key"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    timepoint: Mapped[str] = mapped_column(String(100))
    session: Mapped[str | None] = mapped_column(String(100))
    clinician: Mapped[str | None] = mapped_column(String(100))
    original_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    file_metadata: Mapped[dict] = mapped_column(JSON)
    extra: Mapped[dict] = mapped_column(JSON)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class AccountRole(Base):
    """One of an account's roles: a researcher may rate videos (coder) and code sessions (fidelity)."""

    __tablename__ = "account_role"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)


class Account(Base):
    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Set by a PI's reset: the next sign-in chooses a new password before anything else."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    # Loaded with the account (one more SELECT, no join): an identity is checked detached from its session.
    role_rows: Mapped[set[AccountRole]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", collection_class=set
    )
    roles: AssociationProxy[set[str]] = association_proxy(
        "role_rows", "role", creator=lambda role: AccountRole(role=role)
    )

    @hybrid_method
    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    @has_role.expression
    @classmethod
    def _has_role_expression(cls, *roles: str) -> ColumnElement[bool]:
        return cls.role_rows.any(AccountRole.role.in_(roles))

    @property
    def role_text(self) -> str:
        """The roles as a message names them: "pi", "coder and fidelity"."""
        return " and ".join(sorted(self.roles))


class Draw(Base):
    """A sampling draw, stored whole so that it can be reported and reproduced."""

    __tablename__ = "draw"
    __table_args__ = (CheckConstraint(_in("purpose", DRAW_PURPOSES), name="purpose"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(BigInteger)
    fraction: Mapped[float | None] = mapped_column(Numeric(8, 6, asdecimal=False))
    n: Mapped[int | None] = mapped_column(Integer)
    stratify: Mapped[list] = mapped_column(JSON)
    rounding: Mapped[str] = mapped_column(Text)
    frame: Mapped[list] = mapped_column(JSON)
    """Recording ids the draw chose from, in the order it used."""
    strata: Mapped[dict] = mapped_column(JSON)
    """Per stratum: frame size and number drawn."""
    tops_up: Mapped[int | None] = mapped_column(ForeignKey("draw.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    created_by: Mapped[str] = mapped_column(String(100))


class DrawMember(Base):
    __tablename__ = "draw_member"
    draw_id: Mapped[int] = mapped_column(ForeignKey("draw.id"), primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)


class Assignment(Base):
    """A recording in a coder's queue, at a position drawn at random for that coder."""

    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("account_id", "recording_id"),
        UniqueConstraint("account_id", "position"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"))
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class AssignmentScale(Base):
    __tablename__ = "assignment_scale"
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("scale.id"), primary_key=True)


class Rating(Base):
    """One coder's score of one recording on one scale, in versions.

    A draft is edited in place; once submitted a version never changes (a database trigger
    refuses). A PI reopening it adds the next version, with who and why.
    """

    __tablename__ = "rating"
    __table_args__ = (
        UniqueConstraint("assignment_id", "scale_id", "version"),
        ForeignKeyConstraint(["scale_id", "score"], ["scale_level.scale_id", "scale_level.score"]),
        ForeignKeyConstraint(
            ["assignment_id", "scale_id"], ["assignment_scale.assignment_id", "assignment_scale.scale_id"]
        ),
        CheckConstraint(_in("status", RATING_STATUSES), name="status"),
        CheckConstraint("status = 'draft' OR score IS NOT NULL", name="submitted_has_score"),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint(_in("source", ("app", "import")), name="source"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(Integer)
    scale_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float | None] = mapped_column(Score)
    notes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft")
    source: Mapped[str] = mapped_column(String(16), default="app")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reopened_by: Mapped[str | None] = mapped_column(String(100))
    reopen_reason: Mapped[str | None] = mapped_column(Text)


class Note(Base):
    """A coder's notes on one recording: one text for all of its scales, kept once.

    Saved with the drafts and locked with them: once every scale of the assignment is submitted,
    the notes are too (until a PI reopens one). A rating's own ``notes`` column holds only what a
    ratings file gave that row.
    """

    __tablename__ = "note"
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Flag(Base):
    """A coder's "cannot code this recording", and the PI's decision on it.

    While open (``resolution`` None) the recording is out of that coder's active queue. The PI clears
    it (back to the queue) or excludes the recording from the study (an :class:`Exclusion`). At most
    one open flag per assignment; a resolved flag is kept as history.
    """

    __tablename__ = "flag"
    __table_args__ = (
        CheckConstraint(_in("reason", FLAG_REASONS), name="reason"),
        CheckConstraint(f"resolution IS NULL OR {_in('resolution', FLAG_RESOLUTIONS)}", name="resolution"),
        CheckConstraint("reason <> 'other' OR length(text) > 0", name="other_has_text"),
        Index(
            "uq_flag_open_assignment",
            "assignment_id",
            unique=True,
            sqlite_where=sql_text("resolution IS NULL"),
            postgresql_where=sql_text("resolution IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignment.id"))
    reason: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    resolution: Mapped[str | None] = mapped_column(String(16))
    resolved_by: Mapped[str | None] = mapped_column(String(100))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_note: Mapped[str] = mapped_column(Text, default="")


class Exclusion(Base):
    """A recording taken out of coding: out of every queue, for good (never changed or deleted: triggers).

    Blinded: it says only that the recording left. ``cause`` "flag" is a PI's decision on a coder's
    flag; "withdrawal" a participant's consent withdrawn (the reason stays in :class:`Withdrawal`,
    on the key side). ``ratings_count``: whether its submitted ratings stay in the analysis.
    """

    __tablename__ = "exclusion"
    __table_args__ = (CheckConstraint(_in("cause", EXCLUSION_CAUSES), name="cause"),)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)
    cause: Mapped[str] = mapped_column(String(16))
    ratings_count: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Withdrawal(Base):
    """Unblinding key: a participant's consent withdrawn, why, by whom, and whether her ratings stay in
    the analysis (as the codebook declares). Never changed or deleted (triggers)."""

    __tablename__ = "withdrawal"
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    ratings_kept: Mapped[bool] = mapped_column(Boolean)
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


def newest(
    version: InstrumentedAttribute[int],
    *same: InstrumentedAttribute,
    among: Callable[[Any], ColumnElement[bool]] | None = None,
) -> ColumnElement[bool]:
    """True for a row of a versioned table with no later ``version`` of the same thing (the rows agreeing on ``same``);
    with ``among``, no later one of those it is true for. The one way "the latest version" is asked, of the unique
    (same..., version) index: a join on a grouped subquery made SQLite compare every row with every group.
    """
    later = aliased(version.class_)
    same_thing = [getattr(later, column.key) == column for column in same]
    condition = [] if among is None else [among(later)]
    return ~exists().where(getattr(later, version.key) > version, *same_thing, *condition)


def rating_rows(*columns: Any) -> Select[Any]:
    """``columns`` of every rating version, with its assignment, coder (account), recording and scale joined in."""
    return (
        select(*columns)
        .select_from(Rating)
        .join(Assignment, Assignment.id == Rating.assignment_id)
        .join(Account, Account.id == Assignment.account_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .join(ScaleRow, ScaleRow.id == Rating.scale_id)
    )


def latest_rating() -> ColumnElement[bool]:
    """True for a rating that is the latest version of its coder's rating of its recording on its scale."""
    return newest(Rating.version, Rating.assignment_id, Rating.scale_id)


def latest_submitted() -> ColumnElement[bool]:
    """True for a rating that is its coder's latest submitted version (no later submitted one)."""
    submitted = Rating.status == "submitted"
    return submitted & newest(
        Rating.version, Rating.assignment_id, Rating.scale_id, among=lambda r: r.status == "submitted"
    )


class WebSession(Base):
    """A logged-in browser. The cookie carries a random token; only its digest is stored."""

    __tablename__ = "web_session"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    """Append-only (a database trigger refuses updates and deletes)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_action_entity_at", "action", "entity_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    old: Mapped[dict | None] = mapped_column(JSON)
    new: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(Text)


class MasterCode(Base):
    """The gold-standard score of a training recording on one scale, against which coders are certified.

    A recording with master codes is a training recording: it counts toward certification,
    never toward the study's agreement. Master codes are never changed or deleted (triggers).
    """

    __tablename__ = "master_code"
    __table_args__ = (ForeignKeyConstraint(["scale_id", "score"], ["scale_level.scale_id", "scale_level.score"]),)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)
    scale_id: Mapped[int] = mapped_column(ForeignKey("scale.id"), primary_key=True)
    score: Mapped[float] = mapped_column(Score)
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Certification(Base):
    """A coder certified on a scale: the statistic, threshold and result at the moment it was reached.

    Kept as it was granted (a later change of rule does not silently revoke it); never changed
    or deleted (triggers).
    """

    __tablename__ = "certification"
    __table_args__ = (UniqueConstraint("account_id", "scale_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    scale_id: Mapped[int] = mapped_column(ForeignKey("scale.id"))
    statistic: Mapped[str] = mapped_column(String(64))
    threshold: Mapped[float] = mapped_column(Numeric(6, 4, asdecimal=False))
    min_recordings: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Numeric(8, 6, asdecimal=False))
    n: Mapped[int] = mapped_column(Integer)
    certified_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class ConsensusRating(Base):
    """The score a PI settles on where coders disagree, with the reason; apart from coders' ratings.

    Versioned like ratings: a revision adds the next version, and no row is changed or deleted
    (triggers).
    """

    __tablename__ = "consensus_rating"
    __table_args__ = (
        UniqueConstraint("recording_id", "scale_id", "version"),
        ForeignKeyConstraint(["scale_id", "score"], ["scale_level.scale_id", "scale_level.score"]),
        CheckConstraint("version >= 1", name="version"),
        CheckConstraint("length(reason) > 0", name="reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"))
    scale_id: Mapped[int] = mapped_column(ForeignKey("scale.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    score: Mapped[float] = mapped_column(Score)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(100))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


LOCK_ACTIONS = ("lock", "unlock")


class CodingLock(Base):
    """The history of the database lock, one row per lock or unlock, never changed or deleted (triggers).

    ``scale_id`` None is the whole study. A scope is closed while its latest row is a lock; an
    unlock always carries its reason.
    """

    __tablename__ = "coding_lock"
    __table_args__ = (
        CheckConstraint(_in("action", LOCK_ACTIONS), name="action"),
        CheckConstraint("action = 'lock' OR length(reason) > 0", name="unlock_reason"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(8))
    scale_id: Mapped[int | None] = mapped_column(ForeignKey("scale.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    by: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class PrimaryCoder(Base):
    """Whose score counts for a recording under the codebook's analysis rule: named at assignment
    (``assign --primary``), else the first coder it was assigned to; never changed or deleted (triggers)."""

    __tablename__ = "primary_coder"
    recording_id: Mapped[int] = mapped_column(ForeignKey("recording.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    named: Mapped[bool] = mapped_column(Boolean)
    """True when named with --primary, False when it is the first coder assigned."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
