"""Consensus (adjudicated) ratings: the score a PI settles on where coders disagree, and why.

Kept in a table of its own, never mixed into the coders' ratings (agreement is always computed
on what coders gave independently). Each decision is a new version with its reason, audited;
none is ever changed or deleted (database triggers).
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import ColumnElement, select

from reliability import ScoreError

from . import audit
from .accounts import require_role
from .errors import NotFound
from .exclusions import counted
from .lock import refuse_closed
from .store import Store
from .store.models import Account, ConsensusRating, Recording, ScaleRow, newest
from .study import study_codebook

COLUMNS = ["code", "scale", "score", "version", "reason", "decided_by", "decided_at"]


def latest_decision() -> ColumnElement[bool]:
    """True for the latest consensus decision on its recording and scale."""
    return newest(ConsensusRating.version, ConsensusRating.recording_id, ConsensusRating.scale_id)


@audit.refusals("refused.consensus", "consensus_rating", entity_id="code")
def record_consensus(store: Store, pi: Account, code: str, scale_key: str, score: float, reason: str) -> int:
    """Record the PI's consensus score of one recording on one scale; returns its version
    (a later decision on the same recording and scale adds the next version)."""
    require_role(pi, "pi")
    reason = reason.strip()
    if not reason:
        raise ValueError("a consensus rating needs a reason")
    with store.write() as db:
        recording = db.scalar(select(Recording).where(Recording.code == code))
        scale = db.scalar(select(ScaleRow).where(ScaleRow.key == scale_key))
        if recording is None or scale is None or scale.kind != recording.kind:
            raise NotFound(f"no recording {code} rated on {scale_key}")
        refuse_closed(db, [scale.id], "a consensus rating")
        grid = study_codebook(db)[scale_key].scale
        try:
            score = grid.level(score, "the consensus score")
        except ScoreError as error:
            raise ValueError(str(error)) from None
        latest = (
            db.scalar(
                select(ConsensusRating.version).where(
                    ConsensusRating.recording_id == recording.id,
                    ConsensusRating.scale_id == scale.id,
                    latest_decision(),
                )
            )
            or 0
        )
        decision = ConsensusRating(
            recording_id=recording.id,
            scale_id=scale.id,
            version=latest + 1,
            score=score,
            reason=reason,
            decided_by=pi.name,
        )
        db.add(decision)
        db.flush()
        audit.record(
            db,
            pi.name,
            "consensus.record",
            "consensus_rating",
            decision.id,
            reason=reason,
            new={
                "recording": code,
                "scale": scale_key,
                "version": decision.version,
                "score": score,
                "decided_at": decision.decided_at,
            },
        )
        return decision.version


@audit.refusals("refused.consensus", "consensus_rating")
def consensus_ratings(store: Store, pi: Account, *, every_version: bool = False) -> pd.DataFrame:
    """The PI's consensus ratings by recording code: the latest decision on each recording and
    scale (every version with ``every_version``), oldest first; none of a recording whose ratings do not count
    (:func:`coding_app.exclusions.counted`)."""
    require_role(pi, "pi")
    with store.read() as db:
        query = (
            select(
                Recording.code,
                ScaleRow.key,
                ConsensusRating.score,
                ConsensusRating.version,
                ConsensusRating.reason,
                ConsensusRating.decided_by,
                ConsensusRating.decided_at,
            )
            .join(Recording, Recording.id == ConsensusRating.recording_id)
            .join(ScaleRow, ScaleRow.id == ConsensusRating.scale_id)
            .where(counted(ConsensusRating.recording_id))
            .order_by(ConsensusRating.decided_at, ConsensusRating.id)
        )
        if not every_version:
            query = query.where(latest_decision())
        rows = db.execute(query).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS)
