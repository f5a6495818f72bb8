"""`obscode lock`, `unlock` and `lock status`, and `obscode outcomes` on the study: the PI's, each step audited."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from coding_app.cli import app
from tests.coding_app.helpers import PASSWORD, add_account, audit_rows


@pytest.fixture
def cli(study, monkeypatch):
    add_account(study.store, "pi.one", "pi")
    add_account(study.store, "rater.one", "coder")
    monkeypatch.setenv("OBSCODE_PASSWORD", PASSWORD)

    def run(*args: str, user: str = "pi.one"):
        return CliRunner().invoke(app, ["--db", study.store.url, "--as", user, *args])

    return run


def test_lock_unlock_and_status_on_the_command_line(cli, study):
    assert cli("lock", "status").output == "coding is open: nothing has been locked\n"
    done = cli("lock", "--scale", "ea_sensitivity", "--reason", "primary outcome coded")
    assert done.exit_code == 0 and done.output.startswith("coding closed: ea_sensitivity locked on ")
    refused = cli("unlock", "--scale", "ea_sensitivity", "--reason", " ")
    assert refused.exit_code == 2 and "unlocking needs a reason" in refused.output
    assert (
        cli("unlock", "--scale", "ea_sensitivity", "--reason", "a late video").output
        == "coding open again: ea_sensitivity\n"
    )
    assert cli("lock").exit_code == 0
    status = cli("lock", "status").output.splitlines()
    assert [line.split()[:2] for line in status[1:]] == [
        ["lock", "ea_sensitivity"],
        ["unlock", "ea_sensitivity"],
        ["lock", "the"],
    ]
    assert [e.actor for e in audit_rows(study.store, "coding.lock") + audit_rows(study.store, "coding.unlock")] == [
        "pi.one"
    ] * 3


def test_a_coder_cannot_lock_or_read_outcomes_and_outcomes_wait_for_the_lock(cli, study):
    for args in (("lock",), ("unlock", "--reason", "x"), ("lock", "status"), ("outcomes",)):
        said = cli(*args, user="rater.one")
        assert said.exit_code == 2 and "not a PI account" in said.output
    said = cli("outcomes")
    assert said.exit_code == 2 and "only after coding is locked" in said.output
    assert [e.actor for e in audit_rows(study.store, "refused.command")] == ["rater.one"] * 4
    assert [e.actor for e in audit_rows(study.store, "refused.unblinding")] == ["pi.one"]
