"""`obscode` end to end on the demo study: init, import, allocate, sample, accounts, assign, ratings, export."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from coding_app.cli import app
from coding_app.media import LOCK
from coding_app.store import Store
from coding_app.store.models import Account, Draw
from tests.coding_app.helpers import PASSWORD, audit_rows, manifest_rows, media_listing, row_counts, write_csv

runner = CliRunner()
EA = ("ea_sensitivity", "ea_non_intrusiveness")
# The PI first: a new study's first account is its PI, who then adds the others.
ACCOUNTS = (("pi.one", "pi"), ("rater.one", "coder"), ("rater.two", "coder"), ("fidelity.one", "fidelity"))


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


class Cli:
    """The obscode command on one study database and media folder."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = f"sqlite:///{root / 'cli_study.db'}"
        self.media = root / "media-store"

    def __call__(self, *args, user: str | None = None, password: str | None = None, new_password: str | None = None):
        """``password``: the acting account's (or the first PI's own); ``new_password``: an account added by a PI."""
        options = ["--db", self.url, "--media", str(self.media), *(["--as", user] if user else [])]
        env = {"OBSCODE_PASSWORD": password} if password else {}
        env |= {"OBSCODE_NEW_PASSWORD": new_password} if new_password else {}
        return runner.invoke(app, [*options, *(str(a) for a in args)], env=env)

    def store(self) -> Store:
        return Store(self.url)


@pytest.fixture(scope="module")
def cli_study(demo, tmp_path_factory):
    """The demo study taken through every step once; each step's result kept for the tests below."""
    cli = Cli(tmp_path_factory.mktemp("cli-study"))
    folder = demo.parent
    steps = {}
    steps["init"] = cli("init")
    steps["import"] = cli("import", demo)
    store = cli.store()
    after_import = (row_counts(store), media_listing(cli.media))
    steps["import again"] = cli("import", demo)
    after_again = (row_counts(store), media_listing(cli.media))
    steps["allocation"] = cli("import-allocation", folder / "allocation.csv")
    steps["fidelity"] = cli(
        "sample", "fidelity", "--fraction", "0.10", "--seed", "11", "--stratify", "clinician", user="pi.one"
    )
    steps["reliability"] = cli("sample", "reliability", "--n", "8", "--seed", "12", user="pi.one")
    for name, role in ACCOUNTS:
        by = None if role == "pi" else "pi.one"
        steps[f"user {name}"] = cli(
            "user", "add", name, "--role", role, user=by, password=PASSWORD, new_password=PASSWORD
        )
    steps["assign video"] = cli("assign", "rater.one", "rater.two", "--kind", "video", "--seed", "3")
    steps["assign audio"] = cli("assign", "fidelity.one", "--kind", "audio", "--seed", "4")  # the fidelity draw
    steps["ratings"] = cli("import-ratings", folder / "ratings.csv")
    steps["ratings again"] = cli("import-ratings", folder / "ratings.csv")
    steps["reliability json"] = cli("reliability", "--format", "json", "--n-boot", "0")
    yield SimpleNamespace(
        cli=cli,
        store=store,
        steps=steps,
        manifest=read_csv(demo),
        folder=folder,
        after_import=after_import,
        after_again=after_again,
    )
    store.dispose()


def ok(result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def leaks(cli_study) -> set[str]:
    """Every key value of the demo: ids, sites, arms, timepoints, clinicians, cameras, file names."""
    found = set()
    for row in cli_study.manifest:
        name = Path(row["path"]).name
        found |= {row[c] for c in ("recording_id", "participant_id", "site", "arm", "timepoint", "clinician", "camera")}
        found |= {name, Path(name).stem}
    return {value for value in found if value} | {"VIPP-PMH", "usual care"}


# ------------------------------------------------------------------------------- the steps


def test_init_loads_the_codebook(cli_study):
    """init says where the study is, creates the schema, adds the three shipped scales and the default certification
    rule."""
    assert ok(cli_study.steps["init"]).splitlines() == [
        f"study database: {cli_study.cli.root / 'cli_study.db'}; blinded media: {cli_study.cli.media}",
        "added scale ea_sensitivity",
        "added scale ea_non_intrusiveness",
        "added scale vipp_adherence",
        "certification: kappa quadratic >= 0.8 over at least 8 recordings",
        "analysis: score that counts (consensus_else_primary): the PI's consensus rating where there is one, else the "
        "primary coder's submitted score",
        "media: every recording re-encoded to one profile",
    ]


def test_import_takes_every_recording_and_normalises_it(cli_study):
    """60 recordings of 10 participants, every one re-encoded to the study's one profile (on for a new study)."""
    rows = cli_study.manifest
    participants = len({r["participant_id"] for r in rows})
    assert (len(rows), participants) == (60, 10)
    ok(cli_study.steps["import"])
    assert cli_study.steps["import"].stdout.strip() == (
        f"imported 60 recordings (60 transcoded for browsers), {participants} new participants; 0 already imported"
    )
    counts, files = cli_study.after_import
    assert counts["recording"] == counts["recording_key"] == 60
    assert len(files) == 61 and (LOCK, 0) in files


def test_importing_again_changes_nothing(cli_study):
    """Same manifest again: nothing added, no database row, no media file."""
    ok(cli_study.steps["import again"])
    assert cli_study.steps["import again"].stdout.strip() == (
        "imported 0 recordings (0 transcoded for browsers), 0 new participants; 60 already imported"
    )
    assert cli_study.after_again == cli_study.after_import


def test_the_allocation_list_fills_the_blank_arms(cli_study):
    """The demo manifest leaves two participants' arms blank; the allocation list fills exactly those."""
    blank = {r["participant_id"] for r in cli_study.manifest if not r["arm"]}
    assert len(blank) == 2
    assert ok(cli_study.steps["allocation"]).strip() == "allocated 2 participants"


def test_the_fidelity_sample_rounds_up_within_each_clinician(cli_study):
    """A tenth of each clinician's sessions, rounded up per stratum, as the help text documents."""
    sessions = Counter(r["clinician"] for r in cli_study.manifest if r["kind"] == "audio")
    expected = {c: math.ceil(round(0.1 * n, 9)) for c, n in sessions.items()}
    lines = ok(cli_study.steps["fidelity"]).splitlines()
    assert lines[0] == f"draw 1: {sum(expected.values())} of {sum(sessions.values())} recordings"
    assert sorted(lines[1:]) == sorted(f"  {c}: {expected[c]} of {sessions[c]}" for c in sessions)
    with cli_study.store.read() as db:
        draw = db.get(Draw, 1)
        assert (draw.seed, draw.created_by, draw.stratify) == (11, "pi.one", ["clinician"])


def test_the_reliability_sample_covers_every_arm_and_timepoint(cli_study):
    """8 videos over 6 cells of 5: one each, the two left by largest remainder (a tie: the earlier cells)."""
    lines = ok(cli_study.steps["reliability"]).splitlines()
    assert lines[0] == "draw 2: 8 of 30 recordings"
    cells = dict(re.fullmatch(r"  (.+): (\d) of 5", line).groups() for line in lines[1:])
    assert set(cells) == {
        f"{arm} x {tp}" for arm in ("VIPP-PMH", "usual care") for tp in ("baseline", "month 5", "month 8")
    }
    assert sorted(int(n) for n in cells.values()) == [1, 1, 1, 1, 2, 2]
    assert [int(n) for n in cells.values()] == [2, 2, 1, 1, 1, 1]  # ties go to the earlier cells


def test_accounts_are_added_with_the_password_from_the_environment_only(cli_study):
    """user add reads OBSCODE_PASSWORD (the first PI's) or OBSCODE_NEW_PASSWORD (an account a PI adds); there is no
    --password option; the hash is argon2id, never the password."""
    for name, role in ACCOUNTS:
        assert ok(cli_study.steps[f"user {name}"]).strip() == f"added {role} account {name}"
    with cli_study.store.read() as db:
        accounts = {a.name: a for a in db.scalars(select(Account))}
    assert {n: a.role_text for n, a in accounts.items()} == dict(ACCOUNTS)
    assert all(a.password_hash.startswith("$argon2id$") and PASSWORD not in a.password_hash for a in accounts.values())
    assert all(PASSWORD not in json.dumps(e.new) for e in audit_rows(cli_study.store, "account.add"))
    assert "--password" not in ok(runner.invoke(app, ["user", "add", "--help"]))


def test_assign_fills_each_coders_queue(cli_study):
    """Both raters get all 30 videos; the fidelity coder, asked for audio, gets the fidelity draw's sessions."""
    assert ok(cli_study.steps["assign video"]).splitlines() == [
        "rater.one: 30 recordings added to the queue (all video recordings)",
        "rater.two: 30 recordings added to the queue (all video recordings)",
    ]
    drawn = int(re.match(r"draw 1: (\d+) of", cli_study.steps["fidelity"].output).group(1))
    assert (
        ok(cli_study.steps["assign audio"]).strip()
        == f"fidelity.one: {drawn} recordings added to the queue (the fidelity draw)"
    )


def test_import_ratings_brings_in_every_row_once(cli_study):
    """Every row of the demo ratings file becomes a submitted rating; importing it again adds none."""
    rows = read_csv(cli_study.folder / "ratings.csv")
    assert len(rows) == 30 * 2 * 2 + 3
    assert ok(cli_study.steps["ratings"]).strip() == f"imported {len(rows)} ratings"
    assert ok(cli_study.steps["ratings again"]).strip() == "imported 0 ratings"


def test_reliability_of_the_study_pairs_the_two_raters_on_both_ea_subscales(cli_study):
    """JSON: two rows (EA subscales), rater.one vs rater.two, 30 videos scored by both, nothing unpaired."""
    report = json.loads(ok(cli_study.steps["reliability json"]))
    rows = {r["subscale"]: r for r in report["rows"]}
    assert set(rows) == set(EA)
    for row in rows.values():
        assert (row["coder_a"], row["coder_b"], row["n"], row["n_unpaired"]) == ("rater.one", "rater.two", 30, 0)
        assert 0 < row["exact_agreement"] <= 1


# ------------------------------------------------------------------------------------ exports


def test_the_blinded_export_shows_no_key_value(cli_study, tmp_path):
    """60 rater rows + 3 fidelity rows, opaque codes only: no participant, site, arm, timepoint, clinician, file
    name."""
    path = tmp_path / "blinded.csv"
    assert (
        ok(cli_study.cli("export", "ratings", "--format", "csv", "--output", path)).strip()
        == "wrote 63 rows to blinded.csv"
    )
    text = path.read_text(encoding="utf-8-sig")
    for value in leaks(cli_study):
        assert value.casefold() not in text.casefold(), value
    table = pd.read_csv(path, dtype=str)
    assert len(table) == 63 and set(table["coder"]) == {"rater.one", "rater.two", "fidelity.one"}


def test_the_default_export_name_is_blinded_and_dated(cli_study, tmp_path, monkeypatch):
    """Without --output the file is ratings-blinded-YYYYMMDD.csv in the current folder."""
    monkeypatch.chdir(tmp_path)
    output = ok(cli_study.cli("export", "ratings"))
    [written] = list(tmp_path.iterdir())
    assert re.fullmatch(r"ratings-blinded-\d{8}\.csv", written.name) and written.name in output


def test_a_pi_exports_unblinded_with_the_password_from_the_environment(cli_study, tmp_path):
    """--as pi.one with OBSCODE_PASSWORD: the key columns are there and the unblinding is audited."""
    path = tmp_path / "unblinded.csv"
    ok(cli_study.cli("export", "ratings", "--unblinded", "--output", path, user="pi.one", password=PASSWORD))
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert {"participant_id", "arm", "timepoint", "site"} <= set(table.columns)
    assert set(table["participant_id"]) == {r["participant_id"] for r in cli_study.manifest}
    assert any(e.actor == "pi.one" for e in audit_rows(cli_study.store, "unblind.key_table"))


@pytest.mark.parametrize(
    ("user", "password", "message"),
    [
        ("rater.one", PASSWORD, "not a PI account, or wrong password"),
        ("pi.one", "wrong password!", "not a PI account, or wrong password"),
        (None, None, "this needs a PI"),
    ],
    ids=["coder", "pi with a wrong password", "nobody"],
)
def test_an_unblinded_export_is_refused_to_anyone_but_an_authenticated_pi(cli_study, tmp_path, user, password, message):
    """A coder (right password), a PI with a wrong one, no --as: exit 2, no file, no unblinding logged."""
    path = tmp_path / "unblinded.csv"
    before = len(audit_rows(cli_study.store, "unblind.key_table"))
    result = cli_study.cli("export", "ratings", "--unblinded", "--output", path, user=user, password=password)
    assert result.exit_code == 2 and message in result.output
    assert not path.exists()
    assert len(audit_rows(cli_study.store, "unblind.key_table")) == before


# ------------------------------------------------------------------------------------- errors


def no_traceback(result, message: str) -> None:
    assert result.exit_code == 2, (result.output, result.exception)
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert message in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "{folder}/no-such-manifest.csv"], "no-such-manifest.csv: no such file"),
        (["import", "{bad_manifest}"], "row 2: field 'path': no such file"),
        (
            ["import-allocation", "{conflicting_allocation}"],
            "row 2: field 'arm': participant 'P001' is already in the study with arm",
        ),
        (["import-ratings", "{bad_ratings}"], "row 2: field 'score': score 8 is outside"),
        (["sample", "fidelity", "--seed", "1"], "a fidelity draw exists already (draw 1); use --top-up"),
        (["sample", "fidelity", "--seed", "1", "--stratify", "mood", "--top-up"], "cannot stratify by mood"),
        (["sample", "reliability", "--seed", "1"], "give either --n or --fraction"),
        (["assign", "nobody", "--kind", "video"], "no active account named 'nobody'"),
        (["assign", "pi.one", "--kind", "video"], "pi.one has the pi role"),
        (["export", "ratings", "--format", "pdf"], "format must be one of csv, xlsx, sav"),
        (["user", "add", "x", "--role", "coder"], "a password needs at least 10 characters"),
        (["reopen", "XXXXXXXX", "rater.one", "ea_sensitivity", "--reason", "typo"], "no submitted rating of XXXXXXXX"),
    ],
    ids=[
        "missing manifest",
        "bad manifest",
        "conflicting allocation",
        "bad ratings",
        "second draw",
        "bad stratum",
        "reliability without size",
        "unknown coder",
        "pi as coder",
        "bad format",
        "short password",
        "reopen nothing",
    ],
)
def test_errors_exit_2_with_a_message_and_no_traceback(cli_study, tmp_path, args, message):
    """Mistakes a person can fix get 'error: ...' and exit status 2, and change nothing."""
    files = {
        "folder": tmp_path,
        "bad_manifest": write_csv(
            tmp_path / "bad.csv",
            manifest_rows(
                [
                    dict(
                        recording_id="NEW1",
                        participant_id="P011",
                        site="North",
                        timepoint="baseline",
                        kind="video",
                        path="nowhere.mp4",
                    )
                ]
            ),
            list(manifest_rows([{}])[0]),
        ),
        "conflicting_allocation": write_csv(
            tmp_path / "alloc.csv", [{"participant_id": "P001", "arm": "VIPP-PMH"}], ("participant_id", "arm")
        ),
        "bad_ratings": write_csv(
            tmp_path / "r.csv",
            [{"recording_id": "R0001", "coder": "rater.one", "scale": "ea_sensitivity", "score": "8"}],
            ("recording_id", "coder", "scale", "score"),
        ),
    }
    counts = row_counts(cli_study.store)
    result = cli_study.cli(
        *(a.format(**files) for a in args),
        user="pi.one",
        password=PASSWORD,
        new_password="x" if "user" in args else None,
    )
    no_traceback(result, message)
    assert row_counts(cli_study.store) == counts


def test_commands_on_an_uninitialised_database_say_to_run_init(tmp_path, demo):
    """Before init, import (and the rest) exit 2 with the advice to run `obscode init`, not a traceback; a database
    file that is not there is not made."""
    cli = Cli(tmp_path)
    no_traceback(cli("import", demo), "obscode init starts a new study there")
    assert not (tmp_path / "cli_study.db").exists()
    (tmp_path / "cli_study.db").touch()
    no_traceback(cli("import", demo), "run `obscode init`")
    no_traceback(cli("sample", "fidelity", "--seed", "1"), "run `obscode init`")


def test_a_negative_seed_is_reported_not_raised(tmp_path, clips):
    """sample --seed -1 is a mistake to report (exit 2), not a crash."""
    cli = Cli(tmp_path)
    ok(cli("init"))
    manifest = write_csv(
        tmp_path / "m.csv",
        manifest_rows(
            [
                dict(
                    recording_id="S1",
                    participant_id="P1",
                    site="North",
                    kind="audio",
                    clinician="c",
                    path=str(clips.wav),
                )
            ]
        ),
        list(manifest_rows([{}])[0]),
    )
    ok(cli("import", manifest))
    no_traceback(cli("sample", "fidelity", "--seed", "-1"), "seed")
