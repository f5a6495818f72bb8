"""Coder certification: granting it once a coder meets the rule, and the gate that keeps live recordings from them.

A recording with master (gold-standard) codes is a training recording. Coders code it like any
other: they are not told it is one and never see the master codes. Once a coder's agreement
with the master on a scale reaches the study's rule (by default quadratic weighted kappa >= .80
over at least 8 recordings, :mod:`coding_app.master_agreement`), the coder is certified on that
scale: granted once, with the figures of that moment, and audited. Until then :func:`uncertified`
keeps live recordings on that scale out of their queue. Training recordings never count toward the
study's agreement.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import audit
from .master_agreement import Standing, standings
from .store.models import Account, Certification, MasterCode, ScaleRow
from .study import study_codebook


def training_recordings(db: Session) -> set[int]:
    """Ids of the recordings that have master codes on any scale."""
    return set(db.scalars(select(MasterCode.recording_id).distinct()))


def is_training(db: Session, recording_id: int) -> bool:
    """Whether this recording has master codes (one indexed lookup, for the submit path)."""
    return (
        db.scalar(select(MasterCode.recording_id).where(MasterCode.recording_id == recording_id).limit(1)) is not None
    )


def coders(db: Session) -> list[Account]:
    """Every active account that codes (not a PI), by name: whom certification is about."""
    return list(db.scalars(select(Account).where(~Account.has_role("pi"), Account.active).order_by(Account.name)))


def settle(db: Session, accounts: list[Account], scale_ids: list[int]) -> list[Standing]:
    """Where each of these coders stands on each of these scales that has a training set, certifying
    (once, audited) every coder who now meets the rule. Called wherever a standing can change: a coder submitting
    or ratings imported on a training recording, master codes imported, and before assigning."""
    found = standings(db, accounts, scale_ids)
    if not found:
        return []
    rule = study_codebook(db).certification
    by_name = {a.name: a for a in accounts}
    scale_id = dict(db.execute(select(ScaleRow.key, ScaleRow.id).where(ScaleRow.id.in_(scale_ids))).all())
    settled = []
    for standing in found:
        agreement = standing.agreement  # reached() implies one
        if standing.certified_at is None and agreement is not None and standing.reached(rule):
            value = agreement.estimate
            granted = Certification(
                account_id=by_name[standing.coder].id,
                scale_id=scale_id[standing.scale],
                statistic=rule.statistic,
                threshold=rule.threshold,
                min_recordings=rule.min_recordings,
                value=value,
                n=standing.n,
            )
            db.add(granted)
            db.flush()
            audit.record(
                db,
                "obscode",
                "certification.grant",
                "account",
                standing.coder,
                new={
                    "scale": standing.scale,
                    "statistic": rule.statistic,
                    "value": value,
                    "n": standing.n,
                    "threshold": rule.threshold,
                    "min_recordings": rule.min_recordings,
                },
            )
            standing = replace(standing, certified_at=granted.certified_at)
        settled.append(standing)
    return settled


def uncertified(db: Session, accounts: list[Account], scale_ids: list[int]) -> list[str]:
    """Why each of these coders may not yet have live recordings on these scales (empty: they may).

    Only scales with a training set are gated: a study that keeps no master codes for a scale
    does not certify on it.
    """
    rule = study_codebook(db).certification
    reasons = []
    for standing in settle(db, accounts, scale_ids):
        if standing.certified_at is not None:
            continue
        agreement = standing.agreement
        so_far = (
            f"{agreement.estimate:.2f} over {standing.n}"
            if agreement is not None and agreement.defined
            else f"{standing.n}"
        )
        reasons.append(
            f"{standing.coder} is not yet certified on {standing.scale} ({so_far} training recordings; "
            f"needs {rule.describe()})"
        )
    return reasons
