"""What the PI should do next, read from each PI page's figures: disagreements waiting for a
consensus rating, a scale whose alpha is below .80, a coder still below the certification rule,
sampled sessions not yet coded or coded below acceptable fidelity, an interim look, recordings
not counted in the outcomes. An empty list: nothing waits.
"""

from __future__ import annotations

from collections.abc import Set
from typing import TYPE_CHECKING

import pandas as pd

from reliability import KRIPPENDORFF

from .certification_report import CERTIFIED, DUE, CertificationStatus
from .coder_agreement import AgreementReport
from .fidelity import FidelityReport
from .lock import STUDY
from .reliability_report import disagreement_list

if TYPE_CHECKING:  # annotation only: a page run on its own (AppTest) has pages/ on sys.path, where outcomes.py
    # would stand in for the `outcomes` package that outcome_report imports
    from .outcome_report import OutcomeReport

RELIABLE_ALPHA = KRIPPENDORFF[0][0]  # .800, Krippendorff's "reliable"


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def closed_scales(report: AgreementReport, locks: pd.DataFrame) -> set[str]:
    """The scales whose coding is locked now (:func:`coding_app.lock.lock_report`): no consensus can be recorded
    on them."""
    scopes = set(locks.loc[locks["in_force"], "scope"]) if len(locks) else set()
    return set(report.codebook.scales) if STUDY in scopes else scopes & set(report.codebook.scales)


def agreement_steps(report: AgreementReport, consensus: pd.DataFrame, closed: Set[str] = frozenset()) -> list[str]:
    """Disagreements without a consensus rating (counted by scale; none on a ``closed`` scale, where the
    codebook's analysis rule has decided) and scales whose alpha over all coders is below .80."""
    steps = []
    listed = disagreement_list(report, consensus)
    waiting = listed[listed["consensus"].isna() & ~listed["scale"].isin(closed)].drop_duplicates(["scale", "code"])
    if len(waiting):
        by_scale = waiting.groupby("scale", sort=False).size()
        counts = "; ".join(f"{report.codebook[key].label}: {n}" for key, n in by_scale.items())
        steps.append(
            f"{_plural(len(waiting), 'disagreement waits', 'disagreements wait')} for a consensus rating "
            f"({counts}): review each recording below, under Disagreements, and record the score agreed."
        )
    for _, row in report.alphas.iterrows():
        if row["alpha"] < RELIABLE_ALPHA:
            steps.append(
                f"{report.codebook[row['scale']].label}: Krippendorff's alpha is {row['alpha']:.2f}, below "
                f"{RELIABLE_ALPHA:.2f}: go through the disagreements with the coders and agree on the anchors "
                "before more recordings are coded."
            )
    return steps


def certification_steps(status: CertificationStatus) -> list[str]:
    """Every coder still below the certification rule on a scale, with where they stand."""
    rule, steps = status.rule, []
    for _, row in status.table[status.table["status"] != CERTIFIED].iterrows():
        if row["status"] == DUE:
            steps.append(
                f"{row['coder']} now meets the certification rule on {status.labels[row['scale']]} (the rule changed "
                "since their last training recording): they are certified when next assigned."
            )
            continue
        value = row[rule.statistic]
        so_far = (
            f"{value:.2f} over {row['training recordings coded']}"
            if pd.notna(value)
            else f"{row['training recordings coded']}"
        )
        steps.append(
            f"{row['coder']} is below the certification rule on {status.labels[row['scale']]} "
            f"({so_far} training recordings coded): let them finish the training set, or go through "
            "their codes against the master codes with them."
        )
    return steps


def fidelity_steps(report: FidelityReport) -> list[str]:
    """No draw yet, sampled sessions not yet coded, and coded sessions below acceptable fidelity."""
    if report.draws.empty:
        return [
            "No session audio has been drawn for fidelity coding: `obscode sample fidelity --seed N` "
            "(10% by default), then assign the draw to the fidelity coder."
        ]
    table = report.by_clinician
    steps = []
    uncoded = int(table["sampled"].sum() - table["coded"].sum())
    if uncoded > 0:
        steps.append(
            f"{_plural(uncoded, 'sampled session is', 'sampled sessions are')} not coded yet: "
            "the fidelity coder's queue holds them."
        )
    if report.threshold is not None and report.below:
        steps.append(
            f"{_plural(report.below, 'coded session scored', 'coded sessions scored')} below acceptable "
            f"fidelity ({report.threshold:g}): discuss them in the clinicians' supervision."
        )
    return steps


def outcome_steps(report: OutcomeReport) -> list[str]:
    """An interim look (not the final analysis), and scored recordings left out of the counts."""
    data, steps = report.dataset, []
    if data.interim:
        steps.append("This is an interim look before lock: lock coding (`obscode lock`) before the final analysis.")
    if len(data.listed):  # a row per recording and scale
        steps.append(
            f"{_plural(data.listed['recording'].nunique(), 'recording is', 'recordings are')} not counted "
            "(listed under Not counted, with the reason): check each reason before reporting."
        )
    return steps
