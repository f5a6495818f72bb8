"""The study's codebook as the database keeps it: what every module reads, the coders' door included.

Setting it is :mod:`coding_app.study_setup`'s job.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from reliability import Scale

from .codebook import Codebook, ScaleDefinition, analysis_rule, certification_rule
from .store.models import ScaleRow, StudySetting


def scale_definition(row: ScaleRow) -> ScaleDefinition:
    """One scale of the study as its stored row declares it."""
    scale = Scale(
        float(row.low),
        float(row.high),
        float(row.step),
        threshold=None if row.threshold is None else float(row.threshold),
        class_labels=tuple(row.classes),
    )
    return ScaleDefinition(row.key, row.label, row.kind, scale, {float(k): v for k, v in row.anchors.items()})


def study_scales(db: Session) -> Codebook:
    """The study's scales alone, without its declared arms and timepoints (what coders may read)."""
    return Codebook({row.key: scale_definition(row) for row in db.scalars(select(ScaleRow).order_by(ScaleRow.id))})


def study_codebook(db: Session) -> Codebook:
    """The codebook the study was initialised with, declared arms, timepoints, certification rule and media setting
    included (a study set up before media could be normalised copies them, as it always did)."""
    settings = {s.key: s.value for s in db.scalars(select(StudySetting))}
    return replace(
        study_scales(db),
        arms=tuple(settings.get("arms", ())),
        timepoints=tuple(settings.get("timepoints", ())),
        certification=certification_rule(settings.get("certification", {}), "of the study"),
        analysis=analysis_rule(settings.get("analysis", {}), "of the study"),
        normalise_media=bool(settings.get("normalise_media", False)),
        withdrawn_ratings=settings.get("withdrawn_ratings"),
    )
