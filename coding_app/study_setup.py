"""Setting a study up (``obscode init``): the schema, and the codebook stored as the study's, every change audited."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import select

from . import audit
from .codebook import Codebook, CodebookError
from .lock import locks_in_force
from .store import Store
from .store.models import Recording, ScaleLevel, ScaleRow, StudySetting
from .withdrawal import refuse_a_new_rule


def _grid(row: ScaleRow) -> tuple[float, float, float]:
    return (float(row.low), float(row.high), float(row.step))


def initialise(store: Store, codebook: Codebook, actor: str) -> list[str]:
    """Create or upgrade the schema and store the codebook; returns what changed.

    A scale already in the study keeps its grid (its stored scores depend on it): changing
    low, high or step is refused. Labels, anchors, threshold and classes may be reworded.
    """
    store.upgrade()
    changes = []
    with store.write() as db:
        existing = {row.key: row for row in db.scalars(select(ScaleRow))}
        for definition in codebook.scales.values():
            scale = definition.scale
            values = {
                "label": definition.label,
                "kind": definition.kind,
                "threshold": scale.threshold,
                "classes": list(scale.class_labels),
                "anchors": {f"{k:g}": v for k, v in definition.anchors.items()},
            }
            row = existing.get(definition.key)
            if row is None:
                row = ScaleRow(key=definition.key, low=scale.low, high=scale.high, step=scale.step, **values)
                db.add(row)
                db.flush()
                db.add_all(ScaleLevel(scale_id=row.id, score=float(level)) for level in scale.levels)
                audit.record(db, actor, "scale.add", "scale", definition.key, new=values | {"grid": _grid(row)})
                changes.append(f"added scale {definition.key}")
                continue
            if _grid(row) != (scale.low, scale.high, scale.step) or row.kind != definition.kind:
                raise CodebookError(
                    f"scale {definition.key!r} is already in the study on a different grid or kind; "
                    "its stored scores depend on it, so add a new scale instead"
                )
            old = {k: getattr(row, k) for k in values}
            if old != values:
                for key, value in values.items():
                    setattr(row, key, value)
                audit.record(db, actor, "scale.update", "scale", definition.key, old=old, new=values)
                changes.append(f"updated scale {definition.key}")
        for key in ("arms", "timepoints"):
            declared = list(getattr(codebook, key))
            setting = db.get(StudySetting, key)
            if declared and (setting is None or setting.value != declared):
                audit.record(
                    db,
                    actor,
                    "study.declare",
                    "study_setting",
                    key,
                    old=None if setting is None else {key: setting.value},
                    new={key: declared},
                )
                db.merge(StudySetting(key=key, value=declared))
                changes.append(f"declared {key}: {', '.join(declared)}")
        for key, declared_rule in (("certification", codebook.certification), ("analysis", codebook.analysis)):
            rule = asdict(declared_rule)
            setting = db.get(StudySetting, key)
            if setting is None or setting.value != rule:
                if key == "analysis" and setting is not None and locks_in_force(db):
                    # Choosing how to count after the lock is choosing results: unlock (audited, with a reason) first.
                    raise CodebookError(
                        "the [analysis] rule cannot change while coding is locked (obscode unlock --reason ...)"
                    )
                audit.record(
                    db,
                    actor,
                    "study.declare",
                    "study_setting",
                    key,
                    old=None if setting is None else setting.value,
                    new=rule,
                )
                db.merge(StudySetting(key=key, value=rule))
                changes.append(f"{key}: {declared_rule.describe()}")
        withdrawn, setting = codebook.withdrawn_ratings, db.get(StudySetting, "withdrawn_ratings")
        if withdrawn is not None and (setting is None or setting.value != withdrawn):
            if setting is not None:
                refuse_a_new_rule(db, setting.value, withdrawn)
            audit.record(
                db,
                actor,
                "study.declare",
                "study_setting",
                "withdrawn_ratings",
                old=None if setting is None else {"withdrawn_ratings": setting.value},
                new={"withdrawn_ratings": withdrawn},
            )
            db.merge(StudySetting(key="withdrawn_ratings", value=withdrawn))
            changes.append(f"withdrawn participants' ratings: {withdrawn}")
        normalise, setting = codebook.normalise_media, db.get(StudySetting, "normalise_media")
        if normalise is None and setting is None:
            # On for a new study; one with recordings already keeps the form they were stored in
            # (switching midway would itself tell earlier imports from later ones).
            normalise = db.scalar(select(Recording.id).limit(1)) is None
        if normalise is not None and (setting is None or setting.value != normalise):
            audit.record(
                db,
                actor,
                "study.declare",
                "study_setting",
                "normalise_media",
                old=None if setting is None else {"normalise_media": setting.value},
                new={"normalise_media": normalise},
            )
            db.merge(StudySetting(key="normalise_media", value=normalise))
            how = "every recording re-encoded to one profile" if normalise else "copied where browsers play them"
            changes.append(f"media: {how}")
    return changes
