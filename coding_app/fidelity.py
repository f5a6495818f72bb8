"""Treatment fidelity for the PI: how much session audio was sampled, and how adherent it was."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from reliability import Scale

from . import audit
from .accounts import require_role
from .ratings import submitted_ratings
from .store import Store
from .store.models import Account, Draw, DrawMember, Recording
from .study import study_codebook
from .unblinding import key_table


@dataclass(frozen=True)
class FidelityReport:
    scale: str
    threshold: float | None
    by_clinician: pd.DataFrame
    by_session: pd.DataFrame
    draws: pd.DataFrame
    label: str
    grid: Scale
    below: int
    """Coded sessions whose adherence is below the threshold (0 without one)."""


def _summary(sessions: pd.DataFrame, by: str, threshold: float | None) -> pd.DataFrame:
    grouped = sessions.groupby(by, dropna=False)
    table = pd.DataFrame(
        {
            "sessions": grouped.size(),
            "sampled": grouped["sampled"].sum(),
            "coded": grouped["score"].count(),
            "mean_adherence": grouped["score"].mean(),
        }
    )
    table["sampled_fraction"] = table["sampled"] / table["sessions"]
    if threshold is not None:
        table["acceptable_share"] = grouped["score"].apply(
            lambda s: (s.dropna() >= threshold).mean() if s.notna().any() else float("nan")
        )
    return table.reset_index()


@dataclass(frozen=True)
class FidelityScores:
    """What the fidelity report joins to the unblinding key, by recording code: nothing of the key
    itself, so it may be computed once and shared (the key is read, and audited, on every report)."""

    scale: str
    threshold: float | None
    label: str
    grid: Scale
    codes: dict[str, bool]
    """Every session recording's code: whether a fidelity draw sampled it."""
    scores: pd.Series
    """Mean adherence by code, over the coders who scored it."""
    draws: pd.DataFrame


@audit.refusals("refused.fidelity", "fidelity")
def fidelity_scores(store: Store, pi: Account) -> FidelityScores:
    """The sampled and coded session recordings, by code, and the draws (PI only)."""
    require_role(pi, "pi")
    with store.read() as db:
        codebook = study_codebook(db)
        ratings = submitted_ratings(db, counted_only=True)
        sampled = set(
            db.scalars(
                select(DrawMember.recording_id)
                .join(Draw, Draw.id == DrawMember.draw_id)
                .where(Draw.purpose == "fidelity")
            )
        )
        codes = {
            code: id_ in sampled
            for code, id_ in db.execute(select(Recording.code, Recording.id).where(Recording.kind == "audio"))
        }
        draws = pd.DataFrame(
            [
                (
                    d.id,
                    d.seed,
                    d.fraction,
                    ", ".join(d.stratify) or "none",
                    len(d.frame),
                    sum(s["drawn"] for s in d.strata.values()),
                    d.tops_up,
                    d.created_by,
                    d.created_at,
                )
                for d in db.scalars(select(Draw).where(Draw.purpose == "fidelity").order_by(Draw.id))
            ],
            columns=["draw", "seed", "fraction", "stratified_by", "frame", "drawn", "tops_up", "by", "at"],
        )
    scale = next((s for s in codebook.for_kind("audio")), None)
    if scale is None:
        raise ValueError("the codebook has no scale for session audio")
    scores = ratings[ratings["scale"] == scale.key].groupby("code")["score"].mean()
    return FidelityScores(scale.key, scale.scale.threshold, scale.label, scale.scale, codes, scores, draws)


@audit.refusals("refused.fidelity", "fidelity")
def fidelity_report(store: Store, pi: Account, scores: FidelityScores | None = None) -> FidelityReport:
    """Per clinician and per session number: sessions, sampled, coded, mean adherence, share acceptable.

    A session coded by several coders counts once, with the mean of their scores. ``scores`` (by
    default computed now) may come from a cache; the key is read, and the read audited in
    ``pi``'s name, on every call.
    """
    require_role(pi, "pi")
    scores = fidelity_scores(store, pi) if scores is None else scores
    key = key_table(store, pi, "fidelity summary")
    sessions = key[key["code"].isin(scores.codes)].assign(
        sampled=lambda t: t["code"].map(scores.codes),
        score=lambda t: t["code"].map(scores.scores),
    )
    coded = sessions["score"].dropna()
    below = int((coded < scores.threshold).sum()) if scores.threshold is not None else 0
    return FidelityReport(
        scores.scale,
        scores.threshold,
        _summary(sessions, "clinician", scores.threshold),
        _summary(sessions, "session", scores.threshold),
        scores.draws,
        scores.label,
        scores.grid,
        below,
    )
