"""`obscode backup`, `restore` and `verify`: a snapshot taken while coders work restores whole, into
SQLite or PostgreSQL whichever the study ran on, and a damaged study or backup is named, never used."""

from __future__ import annotations

import random
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.engine import make_url

from coding_app import backup, blinded
from coding_app.accounts import account_named
from coding_app.logins import identify, login, media_token, read_media_token
from coding_app.media import HASHES
from coding_app.store import Store
from coding_app.store.models import Account, Assignment, Rating, Recording, ScaleRow
from coding_app.verify import verify
from tests.coding_app.helpers import PASSWORD, audit_rows
from tests.operations.study import CODER, media_study, tree

COPIED_FIRST = 20
"""Saves acknowledged before the backup starts: the snapshot must hold every one of them."""


@dataclass(frozen=True)
class Saved:
    """A save the door acknowledged (it returned), and when (time.monotonic())."""

    coder: str
    code: str
    scale: str | None
    """None: the submission of the whole recording."""
    score: float | None
    at: float


def _code(store: Store, coder: str, stop: threading.Event, saved: list[Saved]) -> None:
    """One coder's session: a draft per scale, then submit, recording after recording, until told to stop."""
    with store.read() as db:
        account = account_named(db, coder)
    rng = random.Random(coder)
    for item in blinded.queue(store, account):
        for scale in blinded.task(store, account, item.code).scales:
            if stop.is_set():
                return
            score = float(rng.choice(scale.scale.levels))
            blinded.save_draft(store, account, item.code, scale.key, score)
            saved.append(Saved(coder, item.code, scale.key, score, time.monotonic()))
        blinded.submit(store, account, item.code)
        saved.append(Saved(coder, item.code, None, None, time.monotonic()))


def _ratings(store: Store) -> dict[tuple[str, str, str], tuple[float | None, str]]:
    """(recording, coder, scale) -> (score, status) of the latest version."""
    with store.read() as db:
        rows = db.execute(
            select(Recording.code, Account.name, ScaleRow.key, Rating.score, Rating.status)
            .join(Assignment, Assignment.id == Rating.assignment_id)
            .join(Account, Account.id == Assignment.account_id)
            .join(Recording, Recording.id == Assignment.recording_id)
            .join(ScaleRow, ScaleRow.id == Rating.scale_id)
            .order_by(Rating.version)
        ).all()
    return {(code, coder, scale): (score, status) for code, coder, scale, score, status in rows}


def _missing(saves: list[Saved], held: dict[tuple[str, str, str], tuple[float | None, str]]) -> list[Saved]:
    """The acknowledged saves the ratings do not hold (a submission: every scale of that recording submitted)."""

    def kept(s: Saved) -> bool:
        if s.scale is not None:
            return held.get((s.code, s.coder, s.scale), (None,))[0] == s.score
        mine = [status for (code, coder, _), (_, status) in held.items() if (code, coder) == (s.code, s.coder)]
        return bool(mine) and set(mine) == {"submitted"}

    return [s for s in saves if not kept(s)]


@pytest.fixture
def targets(tmp_path, postgres):
    """An empty SQLite file and an empty PostgreSQL database to restore into, each with a media folder of its own."""
    return {
        "sqlite": (f"sqlite:///{tmp_path / 'restored.db'}", tmp_path / "restored-media-sqlite"),
        "postgresql": (postgres.create_database(f"restored_{uuid.uuid4().hex}"), tmp_path / "restored-media-pg"),
    }


def test_a_backup_taken_while_coders_save_restores_whole_into_sqlite_and_postgresql(store, tmp_path, targets):
    study = media_study(store, tmp_path, coders=4, recordings=60)
    saved: list[Saved] = []
    stop = threading.Event()
    coders = [threading.Thread(target=_code, args=(store, name, stop, saved)) for name in study.coders]
    for thread in coders:
        thread.start()
    while len(saved) < COPIED_FIRST and any(thread.is_alive() for thread in coders):
        time.sleep(0.005)
    started = time.monotonic()
    made = study.obscode("backup", str(tmp_path / "backup"))
    stop.set()
    for thread in coders:
        thread.join()

    assert made.exit_code == 0, made.output
    assert made.output.startswith(f"backup written to {tmp_path / 'backup'}: ")
    before = [s for s in saved if s.at < started]
    assert len(before) >= COPIED_FIRST and any(s.at > started for s in saved)  # the coders worked on through it
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == [
        "SHA256SUMS",
        "codebook.json",
        "media",
        "media.sha256",
        "study.sqlite",
    ]
    assert not (tmp_path / "backup.partial").exists()
    assert [e.actor for e in audit_rows(store, "study.backup")] == ["pi.one"]
    live = study.obscode("verify")
    assert live.exit_code == 0 and live.output.startswith("no problems: 60 recordings checked, 0 withdrawn")

    for url, media in targets.values():
        restored = study.obscode("restore", str(tmp_path / "backup"), db=url, media=media)
        assert restored.exit_code == 0, restored.output
        checked = study.obscode("verify", db=url, media=media)
        assert checked.exit_code == 0, checked.output
        assert checked.output.startswith(
            "no problems: 60 recordings checked, 0 withdrawn (media deleted on purpose), 0 media files not hashed yet"
        )
        again = Store(url)
        try:
            assert _missing(before, _ratings(again)) == []
            assert [e.actor for e in audit_rows(again, "study.restore")] == ["pi.one"]
        finally:
            again.dispose()
        without_hashes = lambda files: {k: v for k, v in files.items() if k != HASHES}  # noqa: E731
        assert without_hashes(tree(media)) == without_hashes(tree(study.media.root))


def test_a_restored_study_starts_with_nobody_signed_in_and_no_media_token_honoured(store, tmp_path, targets):
    """A session live when the backup was taken, and a media token made for it, open nothing in the restored study;
    the signing secret is not written where people read (codebook.json), and signing in again works."""
    study = media_study(store, tmp_path, coders=1, recordings=2)
    cookie = login(store, CODER, PASSWORD, "192.0.2.1")
    token = media_token(store, identify(store, cookie), next(iter(study.media_names())))
    assert study.obscode("backup", str(tmp_path / "backup")).exit_code == 0
    assert "secret" not in (tmp_path / "backup" / "codebook.json").read_text(encoding="utf-8")

    for url, media in targets.values():
        assert study.obscode("restore", str(tmp_path / "backup"), db=url, media=media).exit_code == 0
        restored = Store(url)
        try:
            assert identify(restored, cookie) is None
            assert read_media_token(restored, token) is None
            [entry] = audit_rows(restored, "study.restore")
            assert entry.new["sessions_ended"] == 1
            assert identify(restored, login(restored, CODER, PASSWORD, "192.0.2.1")).account.name == CODER
        finally:
            restored.dispose()
    assert identify(store, cookie).account.name == CODER  # the study backed up is left as it was


def test_the_check_of_acknowledged_saves_finds_one_the_ratings_lack(store, tmp_path):
    study = media_study(store, tmp_path, coders=1, recordings=2)
    saved: list[Saved] = []
    _code(store, study.coders[0], threading.Event(), saved)
    assert len(saved) == 6 and _missing(saved, _ratings(store)) == []
    wrong = Saved(saved[0].coder, saved[0].code, saved[0].scale, saved[0].score + 0.5, saved[0].at)
    assert _missing([wrong], _ratings(store)) == [wrong]


def test_verify_names_a_flipped_byte_a_lost_file_and_a_rating_changed_behind_the_log(store, tmp_path):
    study = media_study(store, tmp_path, coders=1, recordings=4)
    assert study.obscode("backup", str(tmp_path / "backup")).exit_code == 0  # records every file's hash
    names = study.media_names()
    flipped, lost, drafted, _ = sorted(names)
    data = bytearray(study.media.path(names[flipped]).read_bytes())
    data[100] ^= 0x01
    study.media.path(names[flipped]).write_bytes(bytes(data))
    study.media.path(names[lost]).unlink()
    with store.read() as db:
        account = account_named(db, study.coders[0])
    blinded.save_draft(store, account, drafted, "ea_sensitivity", 3.0)
    with store.write() as db:  # a change no door made: no audit row
        db.execute(text("UPDATE rating SET score = 4.0"))

    checked = study.obscode("verify")

    assert checked.exit_code == 1
    problems = [line for line in checked.output.splitlines() if line.startswith("problem: ")]
    assert sorted(problems[:2]) == sorted(
        [
            f"problem: recording {flipped}: media file does not match its recorded hash (changed or damaged)",
            f"problem: recording {lost}: media file missing (lost)",
        ]
    )
    assert len(problems) == 3 and problems[2].startswith(
        f"problem: ratings: ('{drafted}', '{study.coders[0]}', 'ea_sensitivity', 1): the log gives"
    )
    assert not any(name in checked.output for name in names.values()) and "LP0" not in checked.output
    assert [e.new["problems"] for e in audit_rows(store, "study.verify")] == [3]


def test_a_damaged_backup_is_refused_before_anything_is_touched(store, tmp_path):
    study = media_study(store, tmp_path, coders=1, recordings=3)
    assert study.obscode("backup", str(tmp_path / "backup")).exit_code == 0
    damaged = next((tmp_path / "backup" / "media").iterdir())
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\0")
    target, media = tmp_path / "restored.db", tmp_path / "restored-media"

    refused = study.obscode("restore", str(tmp_path / "backup"), db=f"sqlite:///{target}", media=media)

    assert refused.exit_code == 2
    assert (
        refused.output
        == f"error: the backup is damaged: media/{damaged.name} does not match its checksum; nothing was restored\n"
    )
    assert not target.exists() and not media.exists()


def test_restore_refuses_a_database_or_media_folder_that_is_not_empty(store, tmp_path):
    study = media_study(store, tmp_path, coders=1, recordings=2)
    assert study.obscode("backup", str(tmp_path / "backup")).exit_code == 0
    into_study = study.obscode("restore", str(tmp_path / "backup"))
    assert into_study.exit_code == 2
    assert into_study.output == "error: the database to restore into is not empty: restore into a new, empty database\n"
    (tmp_path / "used-media").mkdir()
    (tmp_path / "used-media" / "a-file.mp4").write_bytes(b"x")
    target = f"sqlite:///{tmp_path / 'restored.db'}"
    into_used_folder = study.obscode("restore", str(tmp_path / "backup"), db=target, media=tmp_path / "used-media")
    assert (
        into_used_folder.exit_code == 2
        and "media folder" in into_used_folder.output
        and "is not empty" in into_used_folder.output
    )
    unreachable = study.obscode(
        "restore",
        str(tmp_path / "backup"),
        db="postgresql+psycopg://obscode@127.0.0.1:1/none",
        media=tmp_path / "new-media",
    )
    assert unreachable.exit_code == 2 and unreachable.output.startswith(
        "error: cannot open the database to restore into ("
    )
    assert not (tmp_path / "new-media").exists()
    empty = Store(target)
    try:
        assert inspect(empty.engine).get_table_names() == []
    finally:
        empty.dispose()


def test_an_interrupted_backup_leaves_no_folder_that_looks_complete(store, tmp_path, monkeypatch):
    study = media_study(store, tmp_path, coders=1, recordings=3)
    copies = []

    def fail_on_the_second(source: Path, target: Path) -> str:
        copies.append(target)
        if len(copies) == 2:
            raise OSError(28, "No space left on device", str(target))
        return real(source, target)

    real = backup._copy_hashed
    monkeypatch.setattr(backup, "_copy_hashed", fail_on_the_second)

    failed = study.obscode("backup", str(tmp_path / "backup"))

    assert failed.exit_code == 4 and failed.output == "error: a file: No space left on device\n"
    assert [
        p.name for p in tmp_path.iterdir() if p.name.startswith("backup")
    ] == []  # neither the folder nor its .partial
    assert audit_rows(store, "study.backup") == []


def test_a_coder_can_neither_back_up_restore_nor_verify(store, tmp_path):
    study = media_study(store, tmp_path, coders=1, recordings=2)
    assert study.obscode("backup", str(tmp_path / "backup")).exit_code == 0
    target = tmp_path / "restored.db"
    for args, where in (
        (("backup", str(tmp_path / "other")), {}),
        (("verify",), {}),
        (("restore", str(tmp_path / "backup")), {"db": f"sqlite:///{target}", "media": tmp_path / "m"}),
    ):
        said = study.obscode(*args, user=CODER, **where)
        assert (said.exit_code, said.output) == (2, "error: not a PI account, or wrong password\n")
    assert not (tmp_path / "other").exists() and not (tmp_path / "m").exists()
    assert [e.actor for e in audit_rows(store, "refused.command")] == [CODER, CODER]
    assert audit_rows(store, "study.verify") == []
    with store.read() as db:  # the domain refuses too, whoever calls it
        coder = account_named(db, CODER)
    with pytest.raises(PermissionError):
        backup.backup(store, coder, study.media, tmp_path / "other")
    with pytest.raises(PermissionError):
        verify(store, coder, study.media)
    assert [(e.action, e.actor) for e in audit_rows(store) if e.action in ("refused.backup", "refused.verify")] == [
        ("refused.backup", CODER),
        ("refused.verify", CODER),
    ]
    assert not (tmp_path / "other").exists() and not (tmp_path / "other.partial").exists()


def test_verify_runs_the_databases_own_check(store, tmp_path):
    """SQLite's integrity and foreign-key checks; on PostgreSQL, amcheck's index check where it is installed."""
    study = media_study(store, tmp_path, coders=1, recordings=2)
    if store.dialect == "postgresql":
        with store.engine.begin() as connection:
            connection.execute(text("CREATE EXTENSION amcheck"))
        checked = study.obscode("verify")
        assert checked.exit_code == 0 and checked.output.startswith("no problems: ")
        indexes = re.search(r"; database: amcheck on (\d+) indexes, every row read back\n$", checked.output)
        assert indexes and int(indexes[1]) > 0
        return
    with sqlite3.connect(make_url(store.url).database) as connection:  # foreign keys are off unless asked for
        connection.execute("INSERT INTO assignment_scale (assignment_id, scale_id) VALUES (9999, 1)")
    connection.close()

    checked = study.obscode("verify")

    assert checked.exit_code == 1
    assert "problem: database: a row of assignment_scale refers to a missing row of assignment\n" in checked.output


def test_a_table_no_model_declares_stops_the_backup_rather_than_being_left_out(store, tmp_path):
    study = media_study(store, tmp_path, coders=1, recordings=2)
    with store.engine.begin() as connection:
        connection.execute(text("CREATE TABLE site_notes (id INTEGER PRIMARY KEY, text TEXT)"))

    refused = study.obscode("backup", str(tmp_path / "backup"))

    assert (refused.exit_code, refused.output) == (
        2,
        "error: the database has tables obscode does not know (site_notes): nothing was copied\n",
    )
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("backup")] == []
