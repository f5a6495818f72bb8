"""The allocation list: which arm each participant was randomised to, filled in after import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from . import audit
from .errors import ImportRefused
from .recordings import same_id
from .spreadsheet import read_table
from .store import Store
from .store.models import Participant
from .study import study_codebook

COLUMNS = ("participant_id", "arm")


def import_allocation(store: Store, path: Path, actor: str) -> int:
    """Set each listed participant's arm, all or nothing; returns how many were newly allocated.

    A participant's arm, once set, never changes: a different arm for an allocated participant
    is refused, the same arm again is left as it is.
    """
    table = read_table(path)
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ImportRefused(path.name, [f"column{'s' if len(missing) > 1 else ''} {', '.join(missing)} missing"])
    problems: list[str] = []
    allocations: dict[int, str] = {}
    seen: dict[str, int] = {}
    with store.write() as db:
        declared = study_codebook(db).arms
        participants = {same_id(p.external_id): p for p in db.scalars(select(Participant))}
        for row, record in table.iterrows():
            pid, arm = same_id(record["participant_id"]), record["arm"]
            participant = participants.get(pid)
            if not record["participant_id"] or not arm:
                problems.append(f"row {row}: field '{'participant_id' if not record['participant_id'] else 'arm'}' is blank")
            elif pid in seen:
                problems.append(f"row {row}: participant {record['participant_id']!r} repeats row {seen[pid]}")
            elif participant is None:
                problems.append(f"row {row}: participant {record['participant_id']!r} has no recordings in the study")
            elif declared and arm not in declared:
                problems.append(f"row {row}: field 'arm': {arm!r} is not one of the study's arms ({', '.join(declared)})")
            elif participant.arm and participant.arm != arm:
                problems.append(f"row {row}: participant {record['participant_id']!r} is already allocated to another arm")
            elif participant.arm is None:
                allocations[participant.id] = arm
            seen.setdefault(pid, row)
        if problems:
            raise ImportRefused(path.name, problems)
        for participant in participants.values():
            if participant.id in allocations:
                participant.arm = allocations[participant.id]
                audit.record(db, actor, "allocation.set", "participant", participant.external_id,
                             old={"arm": None}, new={"arm": participant.arm})  # fmt: skip
    return len(allocations)
