"""`obscode assign` and `obscode unassign` on the command line: the fidelity draw by default, warnings on stderr."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from coding_app.cli import app
from coding_app.sampling import draw_fidelity, draw_members
from tests.coding_app.helpers import audit_rows, external_ids
from tests.coding_app.store.test_assignments import AUDIO, order, setup_study


def drawn(study) -> list[str]:
    with study.store.read() as db:
        return sorted(external_ids(study.store, draw_members(db, 1)))


@pytest.fixture
def cli(study):
    setup_study(study.store)
    draw_fidelity(study.store, fraction=0.5, seed=8, actor="pi.one")

    def run(*args: str):
        return CliRunner().invoke(app, ["--db", study.store.url, "--as", "pi.one", *args])

    return run


def test_every_session_only_by_name_and_the_warning_goes_to_stderr(cli, study):
    """--recordings all after a fidelity draw: done, the summary counts what is outside, stderr says so and how to
    undo it."""
    said = cli("assign", "fidelity.one", "--kind", "audio", "--recordings", "all", "--seed", "1")
    assert said.exit_code == 0, said.output
    assert (
        said.stdout
        == "fidelity.one: 4 recordings added to the queue (all audio recordings; 2 outside the fidelity draw)\n"
    )
    assert said.stderr.startswith("warning: fidelity.one: 2 of these audio recordings are outside the fidelity draw")
    assert sorted(order(study.store, "fidelity.one")) == AUDIO
    undo = said.stderr.strip().split("to undo: obscode ", 1)[1].split()
    assert cli(*undo).stdout == "fidelity.one: 2 recordings taken out of the queue\n"
    assert sorted(order(study.store, "fidelity.one")) == drawn(study)


def test_a_draw_needs_no_kind_and_a_contradicting_kind_is_one_clear_line(cli, study):
    refused = cli("assign", "fidelity.one", "--kind", "video", "--recordings", "draw:1")
    assert refused.exit_code == 2
    assert refused.stderr == (
        "error: draw 1 is a fidelity draw, not of video recordings: its recordings are audio, so leave out --kind\n"
    )
    said = cli("assign", "fidelity.one", "--recordings", "draw:1", "--seed", "1")
    assert (said.exit_code, said.stdout, said.stderr) == (
        0,
        "fidelity.one: 2 recordings added to the queue (draw 1)\n",
        "",
    )


def test_unassign_on_the_command_line_is_audited_in_the_callers_name(cli, study):
    assert cli("assign", "fidelity.one", "--kind", "audio", "--recordings", "all", "--seed", "1").exit_code == 0
    said = cli("unassign", "fidelity.one", "--kind", "audio", "--recordings", "all")
    assert said.exit_code == 0, said.output
    assert said.stdout == "fidelity.one: 4 recordings taken out of the queue\n"
    assert said.stderr.startswith("warning: fidelity.one stays the primary coder of 4 of them")
    assert order(study.store, "fidelity.one") == []
    assert [(e.actor, e.entity_id) for e in audit_rows(study.store, "assignment.remove")] == [
        ("pi.one", "fidelity.one")
    ]
    again = cli("unassign", "fidelity.one", "--recordings", "draw:1")
    assert again.exit_code == 2
    assert again.stderr == "error: nothing to unassign: fidelity.one's queue has none of these (draw 1)\n"
