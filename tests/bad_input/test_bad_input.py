"""Every file of the bad-input library through the import functions and the `obscode` command.

A bad file is refused as a whole: the error names each row at fault (as Excel numbers it), its
field and value, and nothing else; it shows no traceback and no file path; every table's rows
and the media folder are exactly as before. A file that is merely unusual (BOM, CRLF, accents
and spaces in paths, Excel dates) imports what it says, and importing it again changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import typer.testing
from sqlalchemy import select
from typer.main import get_command
from typer.testing import CliRunner

from coding_app.accounts import account_named
from coding_app.cli import app
from coding_app.errors import ImportRefused
from coding_app.imports.allocation import import_allocation
from coding_app.imports.manifest import import_manifest
from coding_app.imports.master_codes import import_master_codes
from coding_app.imports.ratings import import_ratings
from coding_app.ratings import submitted_ratings
from coding_app.spreadsheet import SpreadsheetError
from coding_app.store.models import Account, Base, MasterCode, Participant, Recording, ScaleRow
from tests.bad_input.cases import ALIKE, FINE, REFUSED, Case
from tests.bad_input.conftest import ImportStudy
from tests.coding_app.helpers import PASSWORD, codes_by_external_id, keys_by_external_id, media_listing

runner = CliRunner()
ENTRIES = ("function", "cli")
COMMANDS = {
    "manifest": ("import",),
    "allocation": ("import-allocation",),
    "ratings": ("import-ratings",),
    "master_codes": ("training", "import"),
}
ADDED = {
    "manifest": r"imported (\d+) recordings",
    "allocation": r"allocated (\d+) participants",
    "ratings": r"imported (\d+) ratings",
    "master_codes": r"set (\d+) master codes",
}
FUNCTIONS = {
    "manifest": lambda study, path: import_manifest(study.store, study.media, path, "tester").added,
    "allocation": lambda study, path: import_allocation(study.store, path, "tester"),
    "ratings": lambda study, path: import_ratings(study.store, path, "tester"),
    "master_codes": lambda study, path: import_master_codes(study.store, pi(study), path),
}
# Master codes are the PI's to set: the command asks for pi.one's password.
ACTOR = {"master_codes": "pi.one"}


def pi(study: ImportStudy) -> Account:
    with study.store.read() as db:
        return account_named(db, "pi.one")


# The start of an absolute path (or a home-relative one) anywhere in a message.
ABSOLUTE_PATH = re.compile(r"(?:^|[\s'\"(=])[/~]")
ROW_NAMED = re.compile(r"\brow (\d+):")


@pytest.fixture(scope="module", autouse=True)
def command_built_once():
    """Typer rebuilds the whole command tree on every invoke (a sixth of a second); the tree never changes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(typer.testing, "_get_command", cache(get_command))
        yield


@dataclass(frozen=True)
class Outcome:
    added: int | None  # None: refused
    message: str


def run(entry: str, study: ImportStudy, case: Case) -> Outcome:
    """Import the case's file through the domain function or the command; a crash fails the test."""
    path = study.library / case.file
    if entry == "function":
        try:
            return Outcome(FUNCTIONS[case.kind](study, path), "")
        except (ImportRefused, SpreadsheetError) as error:
            return Outcome(None, str(error))
    options = ["--db", study.store.url, "--media", str(study.media.root), "--as", ACTOR.get(case.kind, "tester")]
    result = runner.invoke(app, [*options, *COMMANDS[case.kind], str(path)], env={"OBSCODE_PASSWORD": PASSWORD})
    assert result.exit_code in (0, 2), (result.output, result.exception)
    added = re.search(ADDED[case.kind], result.stdout) if result.exit_code == 0 else None
    assert (added is None) == (result.exit_code != 0), result.output
    # What the user reads of a refusal: stderr from the error on (the import's progress bars come before it).
    said = result.stderr[result.stderr.find("error: ") :] if result.exit_code else result.stdout
    return Outcome(added and int(added.group(1)), said)


def state(study: ImportStudy) -> tuple[dict[str, list[str]], list[tuple[str, int]] | None]:
    """Every row of every table (as text, in a fixed order) and every file of the media folder."""
    with study.store.read() as db:
        tables = {
            t.name: sorted(repr(tuple(row)) for row in db.execute(select(t))) for t in Base.metadata.sorted_tables
        }
    return tables, media_listing(study.media.root)


def secrets_of(library: Path) -> list[str]:
    """Texts no message may show: where the library lives, and the names of the files it points at."""
    names = {p.name for p in (library / "media").rglob("*")} | {p.name for p in library.parent.iterdir()}
    return [str(library.parent), *sorted(names), "etc/passwd", "dev/zero"]


def assert_names_rows_and_fields(message: str, case: Case, library: Path) -> None:
    lines = message.splitlines()
    for row, texts in case.errors:
        assert any(f"row {row}:" in line and all(t in line for t in texts) for line in lines), (row, texts, message)
    assert {int(n) for n in ROW_NAMED.findall(message)} == {row for row, _ in case.errors}, (
        message
    )  # no good row blamed
    assert "Traceback" not in message
    assert not ABSOLUTE_PATH.search(message), message
    for text in secrets_of(library):
        assert text not in message, (text, message)


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("case", REFUSED, ids=lambda case: case.file)
def test_a_bad_file_is_refused_naming_row_field_and_value_and_changes_nothing(shared, case, entry):
    before = state(shared)

    outcome = run(entry, shared, case)

    assert outcome.added is None, f"{case.file} was imported ({outcome.added} added)"
    assert_names_rows_and_fields(outcome.message, case, shared.library)
    if entry == "cli":
        assert (
            outcome.message.startswith("error: nothing was imported from")
            or "cannot be read as a table" in outcome.message
        )
    assert state(shared) == before


def assert_recordings(study: ImportStudy, expected: list[dict]) -> None:
    found = keys_by_external_id(study.store)
    for want in expected:
        recording, key, participant = found[want["id"]]
        assert (participant.external_id, participant.site, participant.arm) == (
            want["participant"],
            want["site"],
            want.get("arm"),
        )
        assert (recording.kind, key.timepoint, key.session or "", key.clinician or "") == (
            want["kind"],
            want.get("timepoint", ""),
            want.get("session", ""),
            want.get("clinician", ""),
        )
        assert key.original_path == str((study.library / want["path"]).resolve())
        assert study.media.path(recording.media_name).stat().st_size > 0


def assert_arms(study: ImportStudy, expected: dict[str, str]) -> None:
    with study.store.read() as db:
        arms = {p.external_id: p.arm for p in db.scalars(select(Participant))}
    assert {pid: arms[pid] for pid in expected} == expected


def as_utc(stamp: datetime) -> datetime:
    """A stored time as naive UTC: SQLite gives it back naive, PostgreSQL in the session's zone."""
    return stamp if stamp.tzinfo is None else stamp.astimezone(UTC).replace(tzinfo=None)


def assert_ratings(study: ImportStudy, expected: list[dict]) -> None:
    codes = codes_by_external_id(study.store)
    with study.store.read() as db:
        table = submitted_ratings(db).set_index(["code", "coder", "scale"])
    for want in expected:
        got = table.loc[(codes[want["recording"]], want["coder"], want["scale"])]
        assert (got["score"], as_utc(got["submitted_at"]), got["notes"]) == (
            want["score"],
            datetime.fromisoformat(want["rated_at"]),
            want["notes"],
        )


def assert_master_codes(study: ImportStudy, expected: list[dict]) -> None:
    codes = codes_by_external_id(study.store)
    with study.store.read() as db:
        found = {
            tuple(row)
            for row in db.execute(
                select(Recording.code, ScaleRow.key, MasterCode.score)
                .join(Recording, Recording.id == MasterCode.recording_id)
                .join(ScaleRow, ScaleRow.id == MasterCode.scale_id)
            )
        }
    assert found == {(codes[want["recording"]], want["scale"], want["score"]) for want in expected}


EXPECTATIONS = {
    "recordings": assert_recordings,
    "arms": assert_arms,
    "ratings": assert_ratings,
    "master_codes": assert_master_codes,
}


@pytest.mark.parametrize("entry", ENTRIES)
@pytest.mark.parametrize("case", FINE, ids=lambda case: case.file)
def test_an_unusual_but_valid_file_imports_what_it_says_once(fresh, case, entry):
    before = state(fresh)

    first = run(entry, fresh, case)

    assert first.added == case.imports, first.message
    for name, expected in case.expected.items():
        EXPECTATIONS[name](fresh, expected)
    after = state(fresh)
    assert after != before
    again = run(entry, fresh, case)
    assert again.added == 0, again.message
    assert state(fresh) == after


@pytest.mark.parametrize("name", ALIKE, ids=str)
def test_the_same_problem_is_worded_the_same_by_every_import(shared, name):
    """Files with one kind of problem (same row, same value) for different imports are refused in the same words."""
    refusals = {}
    for case in ALIKE[name]:
        outcome = run("function", shared, case)
        assert outcome.added is None, case.file
        refusals[case.file] = outcome.message.splitlines()[1:]  # the first line names the file
    assert len(refusals) > 1 and len({tuple(lines) for lines in refusals.values()}) == 1, refusals
