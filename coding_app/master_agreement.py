"""Each coder's agreement with the master codes of the training set: the figures certification is decided on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from reliability import Estimate, Scale, cohen_kappa, gwet_ac, icc, percent_agreement

from .accounts import ROLE_FOR_KIND
from .codebook import CertificationRule
from .store.models import Account, Assignment, Certification, MasterCode, Rating, Recording, ScaleRow, latest_submitted
from .study import study_codebook


def agreement_with_master(rule: CertificationRule, coder: np.ndarray, master: np.ndarray, scale: Scale) -> Estimate:
    """The rule's statistic between a coder's scores and the master codes of the same recordings
    (undefined, with the reason, on fewer than two)."""
    statistic = rule.statistic
    if len(coder) < 2:
        return Estimate(statistic, float("nan"), len(coder), undefined="fewer than two training recordings coded")
    if statistic.startswith("kappa_"):
        return cohen_kappa(coder, master, scale, statistic.removeprefix("kappa_"))
    if statistic == "ac2_quadratic":
        return gwet_ac(coder, master, scale, "quadratic")
    if statistic == "icc_single":
        return icc(np.vstack([coder, master]), scale, "single")
    return percent_agreement(coder, master, scale, 0.0 if statistic == "exact_agreement" else 1.0)


def training_scores(db: Session) -> pd.DataFrame:
    """Every coder's latest submitted score on every training recording, beside the master code:
    coder, scale, code, score, master, submitted_at (oldest first)."""
    rows = db.execute(
        select(Account.name, ScaleRow.key, Recording.code, Rating.score, MasterCode.score, Rating.submitted_at)
        .where(latest_submitted())
        .join(Assignment, Assignment.id == Rating.assignment_id)
        .join(
            MasterCode, (MasterCode.recording_id == Assignment.recording_id) & (MasterCode.scale_id == Rating.scale_id)
        )
        .join(Account, Account.id == Assignment.account_id)
        .join(Recording, Recording.id == Assignment.recording_id)
        .join(ScaleRow, ScaleRow.id == Rating.scale_id)
        .order_by(Rating.submitted_at, Rating.id)
    ).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["coder", "scale", "code", "score", "master", "submitted_at"])


@dataclass(frozen=True)
class Standing:
    """Where one coder stands on one scale: agreement with the master so far, and whether certified."""

    coder: str
    scale: str
    n: int
    agreement: Estimate | None
    """None until the coder has scored a training recording on the scale."""
    certified_at: datetime | None

    def reached(self, rule: CertificationRule) -> bool:
        a = self.agreement
        return self.n >= rule.min_recordings and a is not None and a.defined and a.estimate >= rule.threshold - 1e-12


def standings(db: Session, accounts: list[Account], scale_ids: list[int]) -> list[Standing]:
    """Where each of these coders stands on each of these scales that has a training set (the scales their role
    codes). Reads only: granting is :func:`coding_app.certification.settle`'s."""
    gated = db.scalars(
        select(ScaleRow)
        .where(ScaleRow.id.in_(scale_ids), ScaleRow.id.in_(select(MasterCode.scale_id)))
        .order_by(ScaleRow.id)
    )
    pairs = [(a.name, s.key) for s in gated for a in accounts if a.has_role(ROLE_FOR_KIND[s.kind])]
    if not pairs:
        return []
    scores = training_scores(db)
    codebook = study_codebook(db)
    granted = {
        (name, key): at
        for name, key, at in db.execute(
            select(Account.name, ScaleRow.key, Certification.certified_at)
            .join(Account, Account.id == Certification.account_id)
            .join(ScaleRow, ScaleRow.id == Certification.scale_id)
        ).all()
    }
    result = []
    for coder, key in pairs:
        mine = scores[(scores["coder"] == coder) & (scores["scale"] == key)]
        agreement = (
            agreement_with_master(
                codebook.certification,
                mine["score"].to_numpy(float),
                mine["master"].to_numpy(float),
                codebook[key].scale,
            )
            if len(mine)
            else None
        )
        result.append(Standing(coder, key, len(mine), agreement, granted.get((coder, key))))
    return result
