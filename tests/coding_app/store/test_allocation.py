"""The allocation list: fills in blank arms, all or nothing, never changes an arm, audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coding_app.errors import ImportRefused
from coding_app.imports.allocation import import_allocation
from coding_app.store.models import Participant
from tests.coding_app.helpers import add_recordings, audit_rows, row_counts, write_csv


def setup_participants(store) -> None:
    """P1 and P2 imported with no arm yet, P3 already allocated to VIPP-PMH."""
    add_recordings(
        store,
        [
            dict(recording_id="V1", participant_id="P1", kind="video", timepoint="baseline"),
            dict(recording_id="V2", participant_id="P2", kind="video", timepoint="baseline"),
            dict(recording_id="V3", participant_id="P3", kind="video", timepoint="baseline", arm="VIPP-PMH"),
        ],
    )


def arms(store) -> dict[str, str | None]:
    with store.read() as db:
        return {p.external_id: p.arm for p in db.scalars(select(Participant))}


def allocation(study, rows: list[tuple[str, str]]):
    return write_csv(
        study.root / "allocation.csv", [{"participant_id": p, "arm": a} for p, a in rows], ("participant_id", "arm")
    )


def test_the_allocation_list_fills_blank_arms_and_is_audited(study):
    """Blank arms are set (ids matched ignoring case and spaces); an already-set identical arm is left alone."""
    setup_participants(study.store)

    count = import_allocation(
        study.store, allocation(study, [("p 1", "VIPP-PMH"), ("P2", "usual care"), ("P3", "VIPP-PMH")]), "pi.one"
    )

    assert count == 2
    assert arms(study.store) == {"P1": "VIPP-PMH", "P2": "usual care", "P3": "VIPP-PMH"}
    entries = audit_rows(study.store, "allocation.set")
    assert sorted((e.actor, e.entity_id, e.old["arm"], e.new["arm"]) for e in entries) == [
        ("pi.one", "P1", None, "VIPP-PMH"),
        ("pi.one", "P2", None, "usual care"),
    ]


def test_the_same_arm_again_is_a_no_op(study):
    """Re-importing the list (or an allocated participant's own arm) changes nothing and logs nothing."""
    setup_participants(study.store)
    path = allocation(study, [("P1", "VIPP-PMH"), ("P2", "usual care"), ("P3", "VIPP-PMH")])
    import_allocation(study.store, path, "pi.one")
    counts = row_counts(study.store)

    assert import_allocation(study.store, path, "pi.one") == 0

    assert row_counts(study.store) == counts
    assert arms(study.store) == {"P1": "VIPP-PMH", "P2": "usual care", "P3": "VIPP-PMH"}


BAD_ROWS = {
    "unknown participant": (
        ("P99", "usual care"),
        "row 3: field 'participant_id': 'P99' is not a participant in the study",
    ),
    "repeated participant": (("P1", "VIPP-PMH"), "row 3: field 'participant_id': 'P1' repeats row 2"),
    "conflicting arm": (
        ("P3", "usual care"),
        "row 3: field 'arm': participant 'P3' is already in the study with arm 'VIPP-PMH', not 'usual care'",
    ),
    "undeclared arm": (("P2", "VIPP"), "row 3: field 'arm': 'VIPP' is not one of the study's arms"),
    "blank arm": (("P2", ""), "row 3: field 'arm' is blank"),
}


def test_a_bad_allocation_list_allocates_nobody(study, subtests):
    """One bad row refuses the whole list, naming its row; the good row before it is not applied either."""
    study.declare_arms()
    setup_participants(study.store)
    counts, before = row_counts(study.store), arms(study.store)
    assert before == {"P1": None, "P2": None, "P3": "VIPP-PMH"}

    for case, (bad, expected) in BAD_ROWS.items():
        with subtests.test(case):
            with pytest.raises(ImportRefused) as refused:
                import_allocation(study.store, allocation(study, [("P1", "VIPP-PMH"), bad]), "pi.one")
            assert [p for p in refused.value.problems if p.startswith(expected)] == refused.value.problems != []
            assert arms(study.store) == before
            assert row_counts(study.store) == counts
