"""The allocation list: which arm each participant was randomised to, filled in after import."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from . import audit
from .errors import ImportRefused
from .recordings import same_id, undeclared
from .spreadsheet import read_columns
from .store import Store
from .store.models import Participant
from .study import study_codebook

COLUMNS = ("participant_id", "arm")


def _row_problem(
    given: str, arm: str, participant: Participant | None, earlier: tuple[int, str] | None, declared: tuple[str, ...]
) -> str | None:
    """What is wrong with one row of the list (the first thing found), or None."""
    if not given or not arm:
        return f"field '{'participant_id' if not given else 'arm'}' is blank"
    if earlier is not None:
        alike = " (they differ only in case or spaces)" if earlier[1] != given else ""
        return f"field 'participant_id': {given!r} repeats row {earlier[0]}{alike}"
    if participant is None:
        return f"field 'participant_id': {given!r} has no recordings in the study"
    if why := undeclared("arm", arm, declared):
        return why
    if participant.arm and participant.arm != arm:
        return (
            f"participant {given!r} is already allocated to another arm ({participant.arm!r}); "
            f"field 'arm' gives {arm!r}"
        )
    return None


def import_allocation(store: Store, path: Path, actor: str) -> int:
    """Set each listed participant's arm, all or nothing; returns how many were newly allocated.

    A participant's arm, once set, never changes: a different arm for an allocated participant
    is refused, the same arm again is left as it is.
    """
    table = read_columns(path, COLUMNS)
    problems: list[str] = []
    allocations: dict[int, str] = {}
    seen: dict[str, int] = {}
    with store.write() as db:
        declared = study_codebook(db).arms
        participants = {same_id(p.external_id): p for p in db.scalars(select(Participant))}
        for row, record in table.iterrows():
            given, arm = record["participant_id"], record["arm"]
            pid = same_id(given)
            participant = participants.get(pid)
            why = _row_problem(given, arm, participant, seen.get(pid), declared)
            if why:
                problems.append(f"row {row}: {why}")
            elif participant.arm is None:
                allocations[participant.id] = arm
            seen.setdefault(pid, (row, given))
        if problems:
            raise ImportRefused(path.name, problems)
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
