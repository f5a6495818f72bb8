"""`obscode`'s one error boundary: every expected error is one line on stderr and an exit code, no traceback,
and a file is named only as the user typed it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coding_app import cli
from coding_app.cli import FILE_ERROR, REFUSED, UNAVAILABLE, app
from tests.coding_app.helpers import PASSWORD
from tests.conftest import TEMPLATE

runner = CliRunner()
OBSCODE = Path(sys.executable).with_name("obscode")


@pytest.fixture
def study_url(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    assert runner.invoke(app, ["--db", url, "init"]).exit_code == 0
    return url


def invoke(url: str, *args: str, user: str | None = None):
    options = ["--db", url, *(["--as", user] if user else [])]
    return runner.invoke(app, [*options, *args], env={"OBSCODE_PASSWORD": PASSWORD})


def one_line(result) -> str:
    """The error as printed: exactly one line, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


def test_an_export_into_a_folder_that_does_not_exist_names_the_folder_typed(study_url, tmp_path):
    result = invoke(study_url, "export", "ratings", "--output", "/no/such/dir/x.csv")
    assert result.exit_code == FILE_ERROR
    assert one_line(result) == "error: /no/such/dir: no such folder"


def test_a_file_the_user_did_not_type_is_not_named(study_url, tmp_path, monkeypatch):
    """A manifest's path (which can carry a participant's name and visit) never reaches the terminal."""

    def unreadable(*_args, **_kwargs):
        raise PermissionError(13, "Permission denied", "/srv/originals/PX01_baseline.mp4")

    monkeypatch.setattr(cli.study, "import_manifest", unreadable)
    result = invoke(study_url, "import", str(tmp_path / "manifest.csv"))
    assert result.exit_code == FILE_ERROR
    assert one_line(result) == "error: a file: Permission denied"


def test_refusals_of_the_domain_are_one_line_with_exit_2(study_url):
    """NotFound and a domain ValueError, both from one command."""
    assert invoke(study_url, "user", "add", "pi.one", "--role", "pi").exit_code == 0
    missing = invoke(study_url, "reopen", "NOSUCH99", "rater.one", "ea_sensitivity", "--reason", "typo", user="pi.one")
    assert missing.exit_code == REFUSED
    assert one_line(missing) == "error: no submitted rating of NOSUCH99 by rater.one on ea_sensitivity"
    blank = invoke(study_url, "reopen", "NOSUCH99", "rater.one", "ea_sensitivity", "--reason", " ", user="pi.one")
    assert (blank.exit_code, one_line(blank)) == (REFUSED, "error: reopening a rating needs a reason")


def test_a_database_that_takes_no_writes_just_now_is_one_line_with_exit_3(postgres):
    """A real outage of the store (PostgreSQL in read-only transactions) met mid-command, after the store was opened."""
    url = (
        postgres.create_database("cli_read_only", template=TEMPLATE)
        + "?options=-c%20default_transaction_read_only%3Don"
    )
    result = invoke(url, "user", "add", "pi.one", "--role", "pi")
    assert result.exit_code == UNAVAILABLE
    assert one_line(result) == "error: the study database is read-only; nothing was changed, try again in a moment"


def test_the_installed_command_ends_in_one_line_too(study_url, tmp_path):
    """The real `obscode` process: the same line and exit code, nothing else on stderr."""
    done = subprocess.run(
        [str(OBSCODE), "--db", study_url, "export", "ratings", "--output", "/no/such/dir/x.csv"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ | {"OBSCODE_USER": ""},
        timeout=120,
    )
    assert (done.returncode, done.stderr, done.stdout) == (FILE_ERROR, "error: /no/such/dir: no such folder\n", "")
