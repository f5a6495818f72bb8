"""The allocation list: which arm each participant was randomised to, filled in after import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from .. import audit
from ..spreadsheet import read_columns
from ..store import Store
from ..store.models import Participant
from ..study import study_codebook
from .identifiers import same_id
from .rows import RowProblems

COLUMNS = ("participant_id", "arm")


def import_allocation(store: Store, path: Path, actor: str) -> int:
    """Set each listed participant's arm, all or nothing; returns how many were newly allocated.

    A participant's arm, once set, never changes: a different arm for an allocated participant
    is refused, the same arm again is left as it is.
    """
    table = read_columns(path, COLUMNS)
    problems = RowProblems(path.name)
    allocations: dict[int, str] = {}
    with store.write() as db:
        declared = study_codebook(db).arms
        participants = {same_id(p.external_id): p for p in db.scalars(select(Participant))}
        for row, record in table.iterrows():
            given, arm = record["participant_id"], record["arm"]
            known = participants.get(same_id(given))
            participant = problems.named(row, "participant_id", given, known, "a participant in the study")
            repeated = bool(given) and problems.repeated_id(row, "participant_id", given)
            before = len(problems)
            if not arm:
                problems.blank(row, "arm")
            problems.declared(row, "arm", arm, declared)
            if participant is None or repeated or len(problems) > before:
                continue
            if participant.arm is None:
                allocations[participant.id] = arm
            elif participant.arm != arm:
                problems.already(row, "arm", given, participant.arm, arm)
        problems.refuse()
        for participant in participants.values():
            if participant.id in allocations:
                participant.arm = allocations[participant.id]
                audit.record(
                    db,
                    actor,
                    "allocation.set",
                    "participant",
                    participant.external_id,
                    old={"arm": None},
                    new={"arm": participant.arm},
                )
    return len(allocations)
