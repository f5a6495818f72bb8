"""`obscode withdraw`: a participant's consent withdrawn deletes her media at once, takes her recordings out
of every queue, keeps or excludes her ratings as the codebook declares, and `verify` tells it from a loss."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.codebook import DEFAULT_CODEBOOK, CodebookError, load_codebook
from coding_app.exclusions import not_counted
from coding_app.store.models import Exclusion, Participant, Recording, RecordingKey, Withdrawal
from tests.coding_app.helpers import audit_rows, row_counts
from tests.operations.study import CODER, PI, media_study

WITHDRAWING = "LP0001"
"""make_study's participants are LP0000, LP0001, ...; one recording each."""


@pytest.fixture
def study(store, tmp_path):
    study = media_study(store, tmp_path, coders=2, recordings=4)
    assert study.obscode("backup", str(tmp_path / "backup")).exit_code == 0  # the files' hashes recorded
    return study


def _code_of(study, participant: str) -> str:
    with study.store.read() as db:
        return db.scalar(
            select(Recording.code)
            .join(RecordingKey, RecordingKey.recording_id == Recording.id)
            .join(Participant, Participant.id == RecordingKey.participant_id)
            .where(Participant.external_id == participant)
        )


def _queue(study, coder: str) -> list[str]:
    with study.store.read() as db:
        account = account_named(db, coder)
    return [item.code for item in blinded.queue(study.store, account)]


@pytest.mark.parametrize("rule", ["keep", "exclude"])
def test_withdrawal_deletes_the_media_empties_the_queues_and_keeps_or_excludes_the_ratings(study, tmp_path, rule):
    study.declare_withdrawn_ratings(rule, tmp_path)
    code, names = _code_of(study, WITHDRAWING), study.media_names()
    with study.store.read() as db:
        coder = account_named(db, study.coders[0])
    blinded.save_draft(study.store, coder, code, "ea_sensitivity", 5.0)
    blinded.save_draft(study.store, coder, code, "ea_non_intrusiveness", 6.0)
    assert blinded.submit(study.store, coder, code)
    assert all(code in _queue(study, name) for name in study.coders)

    done = study.obscode("withdraw", WITHDRAWING, "--reason", "asked by phone")

    assert done.exit_code == 0, done.output
    said = "stay in the analysis" if rule == "keep" else "leave the analysis"
    assert done.output == f"consent withdrawn: 1 recording's media deleted, out of every queue; their ratings {said}\n"
    assert not study.media.path(names[code]).exists()
    assert all(study.media.path(name).exists() for other, name in names.items() if other != code)
    assert all(code not in _queue(study, name) and len(_queue(study, name)) == 3 for name in study.coders)
    with study.store.read() as db:
        exclusion = db.get(Exclusion, db.scalar(select(Recording.id).where(Recording.code == code)))
        withdrawal = db.scalars(select(Withdrawal)).one()
    assert (exclusion.cause, exclusion.ratings_count, exclusion.reason, exclusion.by) == (
        "withdrawal",
        rule == "keep",
        "",
        PI,
    )
    assert (withdrawal.reason, withdrawal.ratings_kept, withdrawal.by) == ("asked by phone", rule == "keep", PI)
    [entry] = audit_rows(study.store, "participant.withdraw")
    assert (entry.actor, entry.reason, entry.new) == (
        PI,
        "asked by phone",
        {"recordings": 1, "ratings_kept": rule == "keep"},
    )
    assert row_counts(study.store)["rating"] == 2  # kept or not in the analysis, never deleted
    with study.store.read() as db:
        assert not_counted(db) == ({} if rule == "keep" else {code: "withdrawal"})  # what the analysis leaves out

    checked = study.obscode("verify")
    assert checked.exit_code == 0, checked.output
    assert checked.output.startswith("no problems: 4 recordings checked, 1 withdrawn (media deleted on purpose)")
    assert study.obscode("backup", str(tmp_path / "after")).exit_code == 0  # no later backup holds her media
    assert sorted(p.name for p in (tmp_path / "after" / "media").iterdir()) == sorted(
        n for c, n in names.items() if c != code
    )


def test_verify_tells_a_withdrawal_from_a_loss(study, tmp_path):
    study.declare_withdrawn_ratings("exclude", tmp_path)
    assert study.obscode("withdraw", WITHDRAWING, "--reason", "letter").exit_code == 0
    names = study.media_names()
    lost = _code_of(study, "LP0002")
    study.media.path(names[lost]).unlink()
    (study.media.path(names[_code_of(study, WITHDRAWING)])).write_bytes(b"put back from elsewhere")

    checked = study.obscode("verify")

    assert checked.exit_code == 1
    assert sorted(line for line in checked.output.splitlines() if line.startswith("problem: ")) == sorted(
        [
            f"problem: recording {_code_of(study, WITHDRAWING)}: its participant withdrew consent, "
            "but its media file is still in the store",
            f"problem: recording {lost}: media file missing (lost)",
        ]
    )
    backed_up = study.obscode("backup", str(tmp_path / "after"))  # the lost file named; the withdrawn one never copied
    assert backed_up.exit_code == 1 and f"problem: recording {lost}: media file missing" in backed_up.output
    assert sorted(p.name for p in (tmp_path / "after" / "media").iterdir()) == sorted(
        name for code, name in names.items() if code not in (lost, _code_of(study, WITHDRAWING))
    )


def test_withdrawal_is_refused_for_an_unknown_participant_a_second_time_a_coder_and_an_undeclared_rule(study, tmp_path):
    before = row_counts(study.store), sorted(p.name for p in study.media.root.iterdir())
    undeclared = study.obscode("withdraw", WITHDRAWING, "--reason", "letter")
    assert undeclared.exit_code == 2 and "declare [study] withdrawn_ratings = 'keep' or 'exclude'" in undeclared.output
    study.declare_withdrawn_ratings("keep", tmp_path)
    before = row_counts(study.store), before[1]

    unknown = study.obscode("withdraw", "LP9999", "--reason", "letter")
    assert (unknown.exit_code, unknown.output) == (
        2,
        "error: no participant with that id in the study (ids are as in the import manifest)\n",
    )
    by_coder = study.obscode("withdraw", WITHDRAWING, "--reason", "letter", user=CODER)
    assert (by_coder.exit_code, by_coder.output) == (2, "error: not a PI account, or wrong password\n")
    no_reason = study.obscode("withdraw", WITHDRAWING, "--reason", " ")
    assert no_reason.exit_code == 2 and "needs its reason" in no_reason.output
    assert (row_counts(study.store) | {"audit": 0}, sorted(p.name for p in study.media.root.iterdir())) == (
        before[0] | {"audit": 0},
        before[1],
    )

    assert study.obscode("withdraw", WITHDRAWING, "--reason", "letter").exit_code == 0
    again = study.obscode("withdraw", WITHDRAWING, "--reason", "letter")
    assert again.exit_code == 2 and "consent was already withdrawn on " in again.output
    assert [e.actor for e in audit_rows(study.store, "refused.command")] == [CODER]
    assert len(audit_rows(study.store, "participant.withdraw")) == 1
    assert "LP00" not in unknown.output + again.output


def test_a_codebook_may_say_only_keep_or_exclude(tmp_path):
    path = tmp_path / "codebook.toml"
    path.write_text(
        DEFAULT_CODEBOOK.read_text(encoding="utf-8") + '\n[study]\nwithdrawn_ratings = "delete"\n', encoding="utf-8"
    )
    with pytest.raises(CodebookError, match=r"\[study\] withdrawn_ratings must be one of keep, exclude, not 'delete'"):
        load_codebook(path)


def test_the_rule_cannot_change_once_a_consent_was_withdrawn(study, tmp_path):
    """A withdrawal keeps the rule it was made under; a codebook saying otherwise afterwards is refused by name."""
    study.declare_withdrawn_ratings("keep", tmp_path)
    study.declare_withdrawn_ratings("exclude", tmp_path)  # no withdrawal yet: the study may still change its mind
    assert study.obscode("withdraw", WITHDRAWING, "--reason", "letter").exit_code == 0
    before = row_counts(study.store)

    with pytest.raises(CodebookError) as refused:
        study.declare_withdrawn_ratings("keep", tmp_path)

    assert str(refused.value) == (
        "[study] withdrawn_ratings cannot change from 'exclude' to 'keep': 1 participant(s) already withdrew consent "
        "under 'exclude', and their ratings leave the analysis; keep withdrawn_ratings = 'exclude' in the codebook"
    )
    assert row_counts(study.store) == before
    with study.store.read() as db:
        assert not_counted(db) == {_code_of(study, WITHDRAWING): "withdrawal"}
    study.declare_withdrawn_ratings("exclude", tmp_path)  # the same rule again changes nothing and is accepted
    assert row_counts(study.store) == before
