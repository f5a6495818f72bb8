"""Master (gold-standard) codes from a spreadsheet: the training set coders are certified against, all or nothing."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from .. import audit, certification
from ..accounts import require_role
from ..spreadsheet import read_columns
from ..store import Store
from ..store.models import Account, MasterCode, ScaleRow
from ..study import study_codebook
from .identifiers import recording_finder
from .rows import RowProblems

MASTER_COLUMNS = ("recording_id", "scale", "score")


@audit.refusals("refused.master_codes", "master_code")
def import_master_codes(store: Store, pi: Account, path: Path) -> int:
    """Set master codes from a file (recording_id as in the manifest or the opaque code, scale,
    score), all or nothing, every bad row named. The same code again changes nothing; a
    different score for a recording that has one is refused (master codes never change, or
    certifications granted on them would no longer mean what they said). Returns how many were added.
    """
    require_role(pi, "pi")
    table = read_columns(path, MASTER_COLUMNS)
    problems = RowProblems(path.name)
    with store.write() as db:
        codebook = study_codebook(db)
        find_recording = recording_finder(db)
        scales = {s.key: s for s in db.scalars(select(ScaleRow))}
        existing = {(m.recording_id, m.scale_id): m.score for m in db.scalars(select(MasterCode))}
        added = []
        for row, record in table.iterrows():
            given = record["recording_id"]
            recording = problems.named(row, "recording_id", given, find_recording(given), "a recording in the study")
            scale = problems.named(
                row, "scale", record["scale"], scales.get(record["scale"]), "a scale in the codebook"
            )
            if scale is None:
                continue
            score = problems.score(row, record["score"], codebook[scale.key].scale)
            if recording is None or not problems.rates(row, scale, recording) or score is None:
                continue
            key = (recording.id, scale.id)
            if problems.repeated_row(row, key, "recording and scale"):
                continue
            if key in existing and existing[key] != score:
                problems.add(
                    row,
                    f"this recording already has the master code {existing[key]:g} on {scale.key}; "
                    "master codes are never changed",
                )
            elif key not in existing:
                master = MasterCode(recording_id=recording.id, scale_id=scale.id, score=score, set_by=pi.name)
                added.append((recording.code, scale.key, master))
        problems.refuse()
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
            certification.settle(db, certification.coders(db), list({m.scale_id for *_, m in added}))
    return len(added)
