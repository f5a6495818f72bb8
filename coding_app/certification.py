"""Coder certification: a training set with master codes, each coder's agreement with it, and the gate.

A recording with master (gold-standard) codes is a training recording. Coders code it like any
other: they are not told it is one and never see the master codes. Once a coder's agreement
with the master on a scale reaches the study's rule (by default quadratic weighted kappa >= .80
over at least 8 recordings), the coder is certified on that scale: granted once, with the
figures of that moment, and audited. Until then :func:`uncertified` keeps live recordings on
that scale out of their queue. Training recordings never count toward the study's agreement.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from reliability import Estimate, Scale, ScoreError, cohen_kappa, gwet_ac, icc, percent_agreement

from . import audit
from .accounts import ROLE_FOR_KIND, require_role
from .codebook import CertificationRule
from .errors import ImportRefused
from .recordings import recording_finder
from .spreadsheet import read_table
from .store import Store
from .store.models import (
    Account,
    Assignment,
    Certification,
    MasterCode,
    Rating,
    Recording,
    ScaleRow,
    latest_submitted,
)
from .study import study_codebook

MASTER_COLUMNS = ("recording_id", "scale", "score")


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


def training_recordings(db: Session) -> set[int]:
    """Ids of the recordings that have master codes on any scale."""
    return set(db.scalars(select(MasterCode.recording_id).distinct()))


def is_training(db: Session, recording_id: int) -> bool:
    """Whether this recording has master codes (one indexed lookup, for the submit path)."""
    return (
        db.scalar(select(MasterCode.recording_id).where(MasterCode.recording_id == recording_id).limit(1)) is not None
    )


@audit.refusals("refused.master_codes", "master_code")
def import_master_codes(store: Store, pi: Account, path: Path) -> int:
    """Set master codes from a file (recording_id as in the manifest or the opaque code, scale,
    score), all or nothing, every bad row named. The same code again changes nothing; a
    different score for a recording that has one is refused (master codes never change, or
    certifications granted on them would no longer mean what they said). Returns how many were added.
    """
    require_role(pi, "pi")
    table = read_table(path)
    missing = [c for c in MASTER_COLUMNS if c not in table.columns]
    if missing:
        raise ImportRefused(path.name, [f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing"])
    problems: list[str] = []
    with store.write() as db:
        codebook = study_codebook(db)
        find_recording = recording_finder(db)
        scales = {s.key: s for s in db.scalars(select(ScaleRow))}
        existing = {(m.recording_id, m.scale_id): m.score for m in db.scalars(select(MasterCode))}
        seen: dict[tuple[int, int], int] = {}
        added = []
        for row, record in table.iterrows():
            recording = find_recording(record["recording_id"])
            scale = scales.get(record["scale"])
            here = len(problems)
            if recording is None:
                problems.append(
                    f"row {row}: field 'recording_id': {record['recording_id']!r} is not a recording in the study"
                )
            if scale is None:
                problems.append(f"row {row}: field 'scale': no scale {record['scale']!r} in the codebook")
            elif recording is not None and scale.kind != recording.kind:
                problems.append(
                    f"row {row}: field 'scale': {scale.key} rates {scale.kind} recordings, not {recording.kind}"
                )
            if scale is not None:
                grid = codebook[scale.key].scale
                try:
                    score = grid.level(record["score"] or None, "field 'score'")
                except ScoreError as error:
                    problems.append(f"row {row}: {error}")
            if len(problems) > here:
                continue
            key = (recording.id, scale.id)
            if key in seen:
                problems.append(f"row {row}: the same recording and scale as row {seen[key]}")
            elif key in existing and existing[key] != score:
                problems.append(
                    f"row {row}: this recording already has the master code {existing[key]:g} on "
                    f"{scale.key}; master codes are never changed"
                )
            elif key not in existing:
                added.append(
                    (
                        recording.code,
                        scale.key,
                        MasterCode(recording_id=recording.id, scale_id=scale.id, score=score, set_by=pi.name),
                    )
                )
            seen.setdefault(key, row)
        if problems:
            raise ImportRefused(path.name, problems)
        db.add_all(master for *_, master in added)
        if added:
            audit.record(
                db,
                pi.name,
                "master_code.import",
                "master_code",
                None,
                new={"codes": [{"recording": code, "scale": key, "score": m.score} for code, key, m in added]},
            )
    return len(added)


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


def _standings(db: Session, scores: pd.DataFrame, pairs: list[tuple[str, str]]) -> list[Standing]:
    codebook = study_codebook(db)
    granted = {
        (name, key): at
        for name, key, at in db.execute(
            select(Account.name, ScaleRow.key, Certification.certified_at)
            .join(Account, Account.id == Certification.account_id)
            .join(ScaleRow, ScaleRow.id == Certification.scale_id)
        ).all()
    }
    standings = []
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
        standings.append(Standing(coder, key, len(mine), agreement, granted.get((coder, key))))
    return standings


def settle(db: Session, accounts: list[Account], scale_ids: list[int]) -> list[Standing]:
    """Where each of these coders stands on each of these scales that has a training set, certifying
    (once, audited) every coder who now meets the rule. Called as a coder submits and before assigning."""
    gated = list(
        db.scalars(
            select(ScaleRow)
            .where(ScaleRow.id.in_(scale_ids), ScaleRow.id.in_(select(MasterCode.scale_id)))
            .order_by(ScaleRow.id)
        )
    )
    if not gated:
        return []
    rule = study_codebook(db).certification
    by_name = {a.name: a for a in accounts}
    scale_id = {s.key: s.id for s in gated}
    pairs = [(a.name, s.key) for s in gated for a in accounts if a.has_role(ROLE_FOR_KIND[s.kind])]
    standings = []
    for standing in _standings(db, training_scores(db), pairs):
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
        standings.append(standing)
    return standings


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


@dataclass(frozen=True)
class CertificationStatus:
    rule: CertificationRule
    table: pd.DataFrame
    """One row per coder and scale with a training set: training recordings coded, the rule's
    statistic against the master with its 95% CI, status and when certified."""
    labels: dict[str, str]
    """Each scale's label by key."""


@audit.refusals("refused.certification", "certification")
def certification_status(store: Store, pi: Account) -> CertificationStatus:
    """For the PI: where every coder stands on every scale with a training set (granting any certification now due)."""
    require_role(pi, "pi")
    with store.write() as db:
        codebook = study_codebook(db)
        rule = codebook.certification
        coders = list(db.scalars(select(Account).where(~Account.has_role("pi"), Account.active).order_by(Account.name)))
        standings = settle(db, coders, list(db.scalars(select(ScaleRow.id))))
    rows = [
        (
            s.coder,
            s.scale,
            s.n,
            *((s.agreement.estimate, *s.agreement.ci) if s.agreement is not None else (np.nan,) * 3),
            "certified" if s.certified_at is not None else "in training",
            s.certified_at,
        )
        for s in standings
    ]
    columns = [
        "coder",
        "scale",
        "training recordings coded",
        rule.statistic,
        "95% CI low",
        "95% CI high",
        "status",
        "certified at",
    ]
    return CertificationStatus(
        rule, pd.DataFrame(rows, columns=columns), {k: d.label for k, d in codebook.scales.items()}
    )


@audit.refusals("refused.certification", "certification", entity_id="coder")
def certification_history(store: Store, pi: Account, coder: str, scale_key: str) -> pd.DataFrame:
    """The coder's agreement with the master after each training recording they submitted, in order:
    recordings (how many so far), submitted_at and the rule's statistic over those recordings."""
    require_role(pi, "pi")
    with store.read() as db:
        codebook = study_codebook(db)
        scores = training_scores(db)
    mine = scores[(scores["coder"] == coder) & (scores["scale"] == scale_key)].reset_index(drop=True)
    coded, master = mine["score"].to_numpy(float), mine["master"].to_numpy(float)
    values = [
        agreement_with_master(codebook.certification, coded[:k], master[:k], codebook[scale_key].scale).estimate
        for k in range(1, len(mine) + 1)
    ]
    return pd.DataFrame({"recordings": range(1, len(mine) + 1), "submitted_at": mine["submitted_at"], "value": values})
