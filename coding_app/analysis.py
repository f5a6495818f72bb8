"""The analysis dataset: one row per participant x timepoint x scale with arm, the score that counts and its class.

Unblinded, so the PI's alone, and only for scales whose coding is locked (:mod:`coding_app.lock`)
unless the PI gives an interim reason; every read, and every refusal, is audited in the reader's
name. Which score counts for a recording coded more than once is the codebook's ``[analysis]
score`` rule (:data:`~coding_app.codebook.ANALYSIS_SCORES`), with each recording's primary coder
fixed at assignment (:func:`coding_app.assignments.assign`); the rule is carried with the data.
Recordings that cannot count (no arm, no submitted rating under the rule, a timepoint not
declared, a second recording of the same visit, a recording excluded from the study whose ratings do not
count) are listed with the reason, never silently left
out. Training (master-coded) recordings and recordings without a timepoint (session audio) are
not outcome measurements and are not considered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
from sqlalchemy import select

from outcomes import Design
from reliability import Scale

from . import audit
from .accounts import require_role
from .certification import training_recordings
from .codebook import ANALYSIS_SCORES, AnalysisRule, ScaleDefinition
from .consensus import consensus_ratings
from .exclusions import not_counted, why_not_counted
from .lock import Lock, locks_in_force
from .ratings import submitted_ratings
from .store import Store
from .store.models import Account, PrimaryCoder, Recording, now
from .study import study_codebook
from .unblinding import key_table

COLUMNS = [
    "participant",
    "arm",
    "timepoint",
    "scale",
    "score",
    "class",
    "in_class",
    "recording",
    "source",
    "coders",
    "n_ratings",
]
LISTED_COLUMNS = ["recording", "participant", "arm", "timepoint", "scale", "reason"]


class CodingOpen(PermissionError):
    """Refused: no scale's coding is locked, and no interim reason was given."""


def _standing(lock: Lock | None) -> str:
    """A scale's lock in words, for the PI reading the outputs (its label names the scale)."""
    if lock is None:
        return "NOT LOCKED"
    return f"locked{' with the whole study' if lock.scale is None else ''} on {lock.at:%Y-%m-%d %H:%M} UTC by {lock.by}"


@dataclass(frozen=True)
class AnalysisDataset:
    """The dataset (``rows``, :data:`COLUMNS`), what was left out and why (``listed``), and how it was made."""

    rows: pd.DataFrame
    listed: pd.DataFrame
    rule: AnalysisRule
    scales: dict[str, ScaleDefinition]
    """The scales in the dataset, in codebook order."""
    locked: dict[str, Lock]
    """Each scale's lock in force: its own or the whole study's (none for an interim read of an open scale)."""
    randomised: dict[str, str]
    """Participant -> arm, from the allocation."""
    timepoints: tuple[str, ...]
    arms: tuple[str, ...]
    interim: str | None
    read_by: str
    read_at: datetime

    def describe(self) -> str:
        """The rule and the data's standing, as every output prints it."""
        scales = "; ".join(f"{d.label}: {_standing(self.locked.get(key))}" for key, d in self.scales.items())
        interim = f" INTERIM read before lock: {self.interim}." if self.interim else ""
        return (
            f"Analysis dataset read by {self.read_by} on {self.read_at:%Y-%m-%d %H:%M} UTC. "
            f"The score that counts: {ANALYSIS_SCORES[self.rule.score]}. Scales: {scales}.{interim}"
        )

    def grid(self, key: str) -> Scale:
        """The scale the counted scores lie on: the codebook's, finer where a mean of several coders' scores counts."""
        scale = self.scales[key].scale
        counts = self.rows.loc[self.rows["scale"] == key, "n_ratings"]
        split = math.lcm(*map(int, counts)) if self.rule.score == "mean" and len(counts) else 1
        return (
            scale
            if split == 1
            else Scale(
                scale.low, scale.high, scale.step / split, threshold=scale.threshold, class_labels=scale.class_labels
            )
        )

    def outcome_inputs(self, control: str | None = None, baseline: str | None = None) -> dict:
        """The arguments of :func:`outcomes.outcome_tables` (and :func:`outcomes.check_scores`) for the scales
        with a threshold: the long table, scales, and the design (control, baseline, timepoints and allocation:
        follow-up is of those randomised).

        ``control`` and ``baseline`` default to the codebook's ``[analysis]`` and, for the baseline,
        the first declared timepoint; without either a ValueError says what to declare.
        """
        control = control or self.rule.control
        baseline = baseline or self.rule.baseline or (self.timepoints[0] if self.timepoints else None)
        if control is None or baseline is None:
            raise ValueError(
                'declare the control arm and the baseline timepoint: [analysis] control = "..." and '
                'baseline = "..." in the codebook (obscode init --codebook FILE), or --control and --baseline'
            )
        classed = [key for key, definition in self.scales.items() if definition.scale.threshold is not None]
        return {
            "scores": self.rows[self.rows["scale"].isin(classed)].rename(columns={"scale": "subscale"}),
            "scales": {key: self.grid(key) for key in classed},
            "design": Design(control, baseline, timepoints=self.timepoints or None, randomised=self.randomised),
        }


def _counted(
    rule: str, ratings: pd.DataFrame, consensus: float | None, primary: str | None
) -> tuple[float, str, str] | str:
    """(score, source, coders) under the rule, or the reason there is none."""
    scores = dict(zip(ratings["coder"], ratings["score"], strict=True))
    if rule == "consensus_else_primary" and consensus is not None:
        return consensus, "consensus", ", ".join(sorted(scores))
    if not scores:
        return "no submitted rating"
    if rule == "mean":
        return sum(scores.values()) / len(scores), f"mean of {len(scores)}", ", ".join(sorted(scores))
    if primary is None:
        return "no primary coder named"
    if primary not in scores:
        unless = "no consensus rating and " if rule == "consensus_else_primary" else ""
        return f"{unless}the primary coder {primary} has not submitted a rating"
    return scores[primary], f"primary ({primary})", ", ".join(sorted(scores))


@audit.refusals("refused.unblinding", "analysis")
def analysis_dataset(store: Store, pi: Account, interim: str | None = None) -> AnalysisDataset:
    """The analysis dataset of every locked scale (every scale, with an ``interim`` reason); audited.

    Refused (:class:`CodingOpen`, audited) when no scale is locked and no interim reason is given.
    """
    require_role(pi, "pi")
    interim = (interim or "").strip() or None
    with store.read() as db:
        codebook = study_codebook(db)
        locks = locks_in_force(db)
        ratings = submitted_ratings(db)
        primary = dict(
            db.execute(
                select(Recording.code, Account.name)
                .join(PrimaryCoder, PrimaryCoder.recording_id == Recording.id)
                .join(Account, Account.id == PrimaryCoder.account_id)
            ).all()
        )
        training = set(db.scalars(select(Recording.code).where(Recording.id.in_(training_recordings(db)))))
        kinds = dict(db.execute(select(Recording.code, Recording.kind)).all())
        dropped = not_counted(db)
    locked = {key: locks.get(None) or locks[key] for key in codebook.scales if None in locks or key in locks}
    if not locked and interim is None:
        raise CodingOpen("outcomes are unblinded only after coding is locked (obscode lock), or with an interim reason")
    scales = {key: d for key, d in codebook.scales.items() if key in locked or interim is not None}
    settled = consensus_ratings(store, pi).set_index(["code", "scale"])["score"].to_dict()
    key = key_table(store, pi, f"analysis dataset ({'interim: ' + interim if interim else 'after lock'})")
    key = key[(key["timepoint"].fillna("") != "") & ~key["code"].isin(training)]
    rows, listed = [], []
    by_recording = {code: group for code, group in ratings.groupby(["code", "scale"])}
    empty = ratings.iloc[0:0]
    for visit in key.itertuples(index=False):
        for scale, definition in scales.items():
            if definition.kind != kinds[visit.code]:
                continue
            where = [visit.code, visit.participant_id, visit.arm, visit.timepoint, scale]
            if visit.code in dropped:
                listed.append([*where, why_not_counted(dropped[visit.code])])
                continue
            if pd.isna(visit.arm):
                listed.append([*where, "the participant is not allocated to an arm"])
                continue
            if codebook.timepoints and visit.timepoint not in codebook.timepoints:
                listed.append([*where, f"timepoint not declared ({', '.join(codebook.timepoints)})"])
                continue
            found = _counted(
                codebook.analysis.score,
                by_recording.get((visit.code, scale), empty),
                settled.get((visit.code, scale)),
                primary.get(visit.code),
            )
            if isinstance(found, str):
                listed.append([*where, found])
                continue
            score, source, coders = found
            above = None if definition.scale.threshold is None else int(score >= definition.scale.threshold - 1e-9)
            rows.append(
                [
                    visit.participant_id,
                    visit.arm,
                    visit.timepoint,
                    scale,
                    score,
                    None if above is None else definition.classes[above],
                    above,
                    visit.code,
                    source,
                    coders,
                    len(by_recording.get((visit.code, scale), empty)),
                ]
            )
    table = pd.DataFrame(rows, columns=COLUMNS)
    twice = table.duplicated(["participant", "timepoint", "scale"], keep=False)
    for row in table[twice].itertuples(index=False):
        listed.append(
            [
                row.recording,
                row.participant,
                row.arm,
                row.timepoint,
                row.scale,
                "another recording of the same participant, timepoint and scale: neither is counted",
            ]
        )
    timepoints = codebook.timepoints or tuple(dict.fromkeys(table["timepoint"]))
    order = {name: i for i, name in enumerate(timepoints)}
    table = (
        table[~twice]
        .assign(_t=lambda t: t["timepoint"].map(order), _s=lambda t: t["scale"].map(list(scales).index))
        .sort_values(["_s", "_t", "arm", "participant"])
        .drop(columns=["_t", "_s"])
        .reset_index(drop=True)
    )
    randomised = dict(zip(key["participant_id"], key["arm"], strict=True))
    dataset = AnalysisDataset(
        table,
        pd.DataFrame(listed, columns=LISTED_COLUMNS).sort_values(["scale", "recording"]).reset_index(drop=True),
        codebook.analysis,
        scales,
        {k: v for k, v in locked.items() if k in scales},
        {p: a for p, a in randomised.items() if pd.notna(a)},
        tuple(timepoints),
        codebook.arms or tuple(dict.fromkeys(table["arm"])),
        interim,
        pi.name,
        now(),
    )
    with store.write() as db:
        audit.record(
            db,
            pi.name,
            "outcomes.read",
            "analysis",
            None,
            reason=interim,
            new={
                "rule": codebook.analysis.score,
                "scales": list(scales),
                "rows": len(table),
                "listed": len(dataset.listed),
                "interim": interim is not None,
            },
        )
    return dataset
