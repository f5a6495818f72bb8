"""The PI's view of certification: where every coder stands against the master codes, and how they got there."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import select

from . import audit
from .accounts import require_role
from .certification import coders
from .codebook import CertificationRule
from .master_agreement import Standing, agreement_with_master, standings, training_scores
from .store import Store
from .store.models import Account, ScaleRow
from .study import study_codebook

IN_TRAINING, CERTIFIED = "in training", "certified"
DUE = "meets the rule: certified at the next assignment"
"""A coder who meets a rule changed since their last training recording: granted when next assigned, never on a
read."""


def _status(standing: Standing, rule: CertificationRule) -> str:
    if standing.certified_at is not None:
        return CERTIFIED
    return DUE if standing.reached(rule) else IN_TRAINING


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
    """For the PI: where every coder stands on every scale with a training set. Reads only: certification is
    granted as coders submit, as ratings or master codes are imported, and before assigning."""
    require_role(pi, "pi")
    with store.read() as db:
        codebook = study_codebook(db)
        rule = codebook.certification
        found = standings(db, coders(db), list(db.scalars(select(ScaleRow.id))))
    rows = [
        (
            s.coder,
            s.scale,
            s.n,
            *((s.agreement.estimate, *s.agreement.ci) if s.agreement is not None else (np.nan,) * 3),
            _status(s, rule),
            s.certified_at,
        )
        for s in found
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
    figures = [
        agreement_with_master(codebook.certification, coded[:k], master[:k], codebook[scale_key].scale).estimate
        for k in range(1, len(mine) + 1)
    ]
    return pd.DataFrame({"recordings": range(1, len(mine) + 1), "submitted_at": mine["submitted_at"], "value": figures})
