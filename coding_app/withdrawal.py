"""A participant's consent withdrawn: her media deleted, her recordings out of every queue, her ratings
kept in or taken out of the analysis as the study's codebook declares (``[study] withdrawn_ratings``).

The key side (who, why) is a :class:`Withdrawal` row; coders see only that the recordings left their
queues (an :class:`Exclusion` per recording, cause "withdrawal", no reason). The media files are
deleted inside the transaction that records it: if the deletion fails nothing is recorded, and if
the record fails the withdrawal can simply be given again.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import audit
from .accounts import require_role
from .codebook import WITHDRAWN_RATINGS, CodebookError
from .media import MediaStore
from .store import Store
from .store.models import Account, Exclusion, Participant, Recording, RecordingKey, StudySetting, Withdrawal


@dataclass(frozen=True)
class Withdrawn:
    recordings: int
    ratings_kept: bool


def refuse_a_new_rule(db: Session, declared: str, given: str) -> None:
    """Refuse changing ``[study] withdrawn_ratings`` from ``declared`` to ``given`` once a consent was withdrawn.

    Each withdrawal keeps the rule it was made under (its exclusions' ``ratings_count``); a new rule would hold
    for later withdrawals only, and the analysis would count withdrawn participants two ways without a word.
    """
    withdrawn = db.scalar(select(func.count()).select_from(Withdrawal))
    if withdrawn:
        raise CodebookError(
            f"[study] withdrawn_ratings cannot change from {declared!r} to {given!r}: {withdrawn} participant(s) "
            f"already withdrew consent under {declared!r}, and their ratings {WITHDRAWN_RATINGS[declared]}; "
            f"keep withdrawn_ratings = {declared!r} in the codebook"
        )


@audit.refusals("refused.withdrawal", "participant")
def withdraw(store: Store, pi: Account, media: MediaStore, participant: str, reason: str) -> Withdrawn:
    """Record a participant's withdrawal of consent and delete her media at once (PI only, audited)."""
    require_role(pi, "pi")
    reason = reason.strip()
    if not reason:
        raise ValueError("a withdrawal needs its reason (--reason), for the record")
    with store.write() as db:
        declared = db.get(StudySetting, "withdrawn_ratings")
        if declared is None:
            raise ValueError(
                "the study's codebook does not say what happens to a withdrawn participant's ratings: "
                f"declare [study] withdrawn_ratings = {' or '.join(map(repr, WITHDRAWN_RATINGS))} "
                "and run obscode init --codebook FILE"
            )
        person = db.scalar(select(Participant).where(Participant.external_id == participant.strip()))
        if person is None:
            raise ValueError("no participant with that id in the study (ids are as in the import manifest)")
        earlier = db.get(Withdrawal, person.id)
        if earlier is not None:
            raise ValueError(
                f"this participant's consent was already withdrawn on {earlier.at:%Y-%m-%d}; "
                "her media were deleted then"
            )
        recordings = db.execute(
            select(Recording.id, Recording.media_name)
            .join(RecordingKey, RecordingKey.recording_id == Recording.id)
            .where(RecordingKey.participant_id == person.id)
        ).all()
        ids = [recording_id for recording_id, _ in recordings]
        # A recording a PI already excluded (a coder's flag) is out of the queues already; its exclusion stands.
        excluded = set(db.scalars(select(Exclusion.recording_id).where(Exclusion.recording_id.in_(ids))))
        kept = declared.value == "keep"
        db.add(Withdrawal(participant_id=person.id, reason=reason, ratings_kept=kept, by=pi.name))
        db.add_all(
            Exclusion(recording_id=r, cause="withdrawal", ratings_count=kept, reason="", by=pi.name)
            for r in ids
            if r not in excluded
        )
        audit.record(
            db,
            pi.name,
            "participant.withdraw",
            "participant",
            person.id,
            new={"recordings": len(ids), "ratings_kept": kept},
            reason=reason,
        )
        db.flush()  # the rows are sound before any file goes
        media.delete([name for _, name in recordings])
    return Withdrawn(len(ids), kept)
