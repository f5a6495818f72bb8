"""What `obscode` says to a person at a terminal: why it asks for a password, where the study is, how far an
import is."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from coding_app.cli import app
from tests.coding_app.helpers import add_account, manifest_rows, write_csv

runner = CliRunner()


@pytest.fixture
def pi(study):
    add_account(study.store, "pi.one", "pi")
    return study


def test_the_password_prompt_says_whose_and_why(pi, monkeypatch):
    monkeypatch.delenv("OBSCODE_PASSWORD", raising=False)
    said = runner.invoke(app, ["--db", pi.store.url, "--as", "pi.one", "lock", "status"], input="wrong\n")
    assert said.stdout.startswith("Password for pi.one (PI account, needed for this command): ")
    assert said.exit_code == 2 and "not a PI account, or wrong password" in said.stderr


def test_no_password_at_the_prompt_is_one_clear_line_not_aborted(pi, monkeypatch):
    """The end of input (no terminal; Ctrl-C ends the prompt the same way): a line saying what stopped and how to
    give it."""
    monkeypatch.delenv("OBSCODE_PASSWORD", raising=False)
    said = runner.invoke(app, ["--db", pi.store.url, "--as", "pi.one", "lock", "status"], input="")
    assert said.exit_code == 2
    assert "Aborted" not in said.output
    assert said.stderr.strip() == (
        "error: stopped: no password given for pi.one; this command needs the PI's password "
        "(OBSCODE_PASSWORD gives it where there is no terminal)"
    )


def test_a_folder_with_no_study_says_where_it_looked_and_makes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OBSCODE_DATABASE_URL", raising=False)
    said = runner.invoke(app, ["assign", "rater.one"])
    assert said.exit_code == 2
    assert said.stderr == (
        f"error: no study database at {tmp_path / 'var' / 'obscode.db'}: run obscode in the study's "
        "folder, or point at the study with --db URL or OBSCODE_DATABASE_URL (obscode init starts a "
        "new study there)\n"
    )
    assert list(tmp_path.iterdir()) == []

    made = runner.invoke(app, ["init"])

    assert made.exit_code == 0
    assert made.stdout.splitlines()[0] == (
        f"study database: {tmp_path / 'var' / 'obscode.db'}; blinded media: {tmp_path / 'var' / 'media'}"
    )
    assert (
        runner.invoke(app, ["sample", "fidelity", "--seed", "1"]).stderr == "error: no audio recordings in the study\n"
    )


def test_import_shows_its_progress_on_stderr_and_keeps_stdout_for_the_result(study, clips):
    here = study.root / "sessions"
    rows = [
        dict(
            recording_id=f"A{n}",
            participant_id="P01",
            kind="audio",
            session=str(n),
            path=str(clips.wav_variant(here, n)),
        )
        for n in (1, 2)
    ]
    manifest = write_csv(study.root / "manifest.csv", manifest_rows(rows), list(manifest_rows(rows)[0]))
    said = runner.invoke(app, ["--db", study.store.url, "--media", str(study.media.root), "import", str(manifest)])
    assert said.exit_code == 0, said.output
    assert said.stdout == "imported 2 recordings (2 transcoded for browsers), 1 new participants; 0 already imported\n"
    assert "checking rows and files" in said.stderr and "storing blinded copies" in said.stderr
    assert "2/2" in said.stderr
