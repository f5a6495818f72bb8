"""The PI's fidelity summary, on SQLite and PostgreSQL: sampled fraction, adherence, share acceptable."""

import pandas as pd
import pytest
from sqlalchemy import select

from coding_app.accounts import account_named, add_account
from coding_app.assignments import assign
from coding_app.blinded import queue
from coding_app.codebook import load_codebook
from coding_app.errors import NotAllowed
from coding_app.fidelity import fidelity_report
from coding_app.imports.ratings import import_ratings
from coding_app.next_steps import fidelity_steps
from coding_app.sampling import draw_fidelity
from coding_app.store.models import AuditEntry, Participant, Recording, RecordingKey
from coding_app.study_setup import initialise

SESSIONS = [("clinician A", "1"), ("clinician A", "2"), ("clinician B", "1"), ("clinician B", "2")]


@pytest.fixture
def coded(store, tmp_path):
    initialise(store, load_codebook(), "test")
    with store.write() as db:
        mother = Participant(external_id="PZ1", site="North", arm="VIPP-PMH")
        db.add(mother)
        db.flush()
        for i, (clinician, session) in enumerate(SESSIONS):
            recording = Recording(code=f"AUDIO{i}XX", kind="audio", media_name=f"a{i}.m4a", media_type="audio/mp4")
            db.add(recording)
            db.flush()
            db.add(
                RecordingKey(
                    recording_id=recording.id,
                    external_id=f"S{i}",
                    participant_id=mother.id,
                    timepoint="",
                    session=session,
                    clinician=clinician,
                    original_path=f"/x/{i}",
                    content_hash=str(i),
                    file_metadata={},
                    extra={},
                )
            )
        add_account(db, "fay", "fidelity", "a-long-password", "test")
        add_account(db, "pat", "pi", "a-long-password", "test")
    draw = draw_fidelity(store, fraction=0.5, seed=11, stratify=("clinician",), actor="pat")
    assign(store, ["fay"], kind="audio", recordings=f"draw:{draw.draw_id}", seed=1, actor="test")
    with store.read() as db:
        fay, pi = account_named(db, "fay"), account_named(db, "pat")
    drawn = [item.code for item in queue(store, fay)]
    path = tmp_path / "fidelity.csv"
    pd.DataFrame({"recording_id": drawn, "coder": "fay", "scale": "vipp_adherence", "score": [4, 2]}).to_csv(
        path, index=False
    )
    import_ratings(store, path, "test")
    return store, pi, fay, dict(zip(drawn, [4, 2], strict=True))


def test_only_a_pi_gets_it(coded):
    store, _, fay, _ = coded
    with pytest.raises(NotAllowed):
        fidelity_report(store, fay)


def test_per_clinician_sampled_coded_mean_and_share_acceptable(coded):
    store, pi, _, scores = coded
    report = fidelity_report(store, pi)
    table = report.by_clinician.set_index("clinician")
    assert table["sessions"].tolist() == [2, 2] and table["sampled"].tolist() == [1, 1]
    assert table["sampled_fraction"].tolist() == [0.5, 0.5] and table["coded"].tolist() == [1, 1]
    assert sorted(table["mean_adherence"]) == [2.0, 4.0]
    # 4 is acceptable (>= 3), 2 is not: one clinician at 100%, the other at 0%.
    assert sorted(table["acceptable_share"]) == [0.0, 1.0]
    assert report.threshold == 3 and report.scale == "vipp_adherence"
    assert report.by_session["sessions"].sum() == 4


def test_the_draw_is_shown_with_its_seed_and_the_key_read_is_audited(coded):
    store, pi, _, _ = coded
    report = fidelity_report(store, pi)
    assert report.draws[["seed", "fraction", "stratified_by", "frame", "drawn"]].values.tolist() == [
        [11, 0.5, "clinician", 4, 2]
    ]
    with store.read() as db:
        reasons = db.scalars(select(AuditEntry.reason).where(AuditEntry.action == "unblind.key_table")).all()
    assert "fidelity summary" in reasons


def test_the_pi_is_told_of_sessions_coded_below_acceptable_fidelity(coded):
    store, pi, _, _ = coded
    report = fidelity_report(store, pi)
    assert (
        report.below == 1
        and report.label == "VIPP-PMH adherence to the manual"
        and (report.grid.low, report.grid.high) == (1, 5)
    )
    assert fidelity_steps(report) == [
        "1 coded session scored below acceptable fidelity (3): discuss them in the clinicians' supervision."
    ]
