"""The one door for coders: no key table in its SQL, no key value in what it returns; PI-only unblinding."""

from __future__ import annotations

import ast
import csv
import dataclasses
import inspect
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from coding_app import audit_log, blinded, unblinding
from coding_app.assignments import assign
from coding_app.codebook import ScaleDefinition
from coding_app.errors import NotAllowed, NotFound
from coding_app.imports.allocation import import_allocation
from coding_app.imports.manifest import import_manifest
from coding_app.store.models import Account, Assignment, AssignmentScale, Recording, ScaleRow
from coding_app.study import study_codebook
from tests.coding_app.helpers import (
    add_account,
    add_recordings,
    audit_rows,
    ffprobe,
    keys_by_external_id,
    row_counts,
    write_csv,
)
from tests.coding_app.store.test_recordings import ENCODER_TEXT, media_setting

KEY_TABLES = ("participant", "recording_key", "withdrawal", "draw", "draw_member", "audit")
KEY_MODELS = {"Participant", "RecordingKey", "Withdrawal", "Draw", "DrawMember", "AuditEntry"}
KEY_FIELD_WORDS = (
    "participant",
    "arm",
    "site",
    "timepoint",
    "session",
    "clinician",
    "path",
    "external",
    "metadata",
    "camera",
    "extra",
)


# ------------------------------------------------------------------------- the demo, blinded


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def demo_study(study, demo):
    """Two demo participants (one per arm, all their videos and sessions) imported, allocated and assigned."""
    manifest, allocation = read_csv(demo), read_csv(demo.parent / "allocation.csv")
    arm_of = {row["participant_id"]: row["arm"] for row in allocation}
    chosen = [next(p for p, arm in arm_of.items() if arm == which) for which in ("VIPP-PMH", "usual care")]
    # Their recordings that browsers play as they are (copied, not transcoded: quicker), three sessions at most.
    rows = [
        row | {"path": str(demo.parent / row["path"])}
        for row in manifest
        if row["participant_id"] in chosen
        and Path(row["path"]).suffix in (".mp4", ".m4a", ".wav", ".mp3")
        and row["session"] in ("", "1", "2", "3")
    ]
    columns = list(manifest[0])
    import_manifest(study.store, study.media, write_csv(study.root / "subset.csv", rows, columns), "pi.one")
    import_allocation(
        study.store,
        write_csv(
            study.root / "allocation.csv",
            [{"participant_id": p, "arm": arm_of[p]} for p in chosen],
            ("participant_id", "arm"),
        ),
        "pi.one",
    )
    accounts = {
        name: add_account(study.store, name, role)
        for name, role in (
            ("rater.one", "coder"),
            ("rater.two", "coder"),
            ("fidelity.one", "fidelity"),
            ("pi.one", "pi"),
        )
    }
    assign(study.store, ["rater.one", "rater.two"], kind="video", seed=5, actor="pi.one")
    assign(study.store, ["fidelity.one"], kind="audio", seed=6, actor="pi.one")
    # Everything the key could give away, from the whole demo study.
    leaks = set()
    for row in manifest:
        name = Path(row["path"]).name
        leaks |= {
            row["recording_id"],
            row["participant_id"],
            row["site"],
            row["timepoint"],
            row["clinician"],
            row["camera"],
            name,
            Path(name).stem,
        }
    leaks |= set(arm_of.values())
    study.accounts, study.leaks = accounts, {leak for leak in leaks if leak}
    kinds = {(r["kind"], arm_of[r["participant_id"]]) for r in rows}
    assert kinds == {("video", "VIPP-PMH"), ("audio", "VIPP-PMH"), ("video", "usual care")}
    return study


def flatten(value, where: str = ""):
    """(where, field name or None, leaf value or None) through the returned dataclasses, recursively."""
    if isinstance(value, ScaleDefinition):
        return  # the codebook: the same for every recording, checked separately
    if dataclasses.is_dataclass(value):
        for field in dataclasses.fields(value):
            yield f"{where}.{field.name}", field.name, None
            yield from flatten(getattr(value, field.name), f"{where}.{field.name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from flatten(item, f"{where}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{where}[{key!r}]", str(key), key
            yield from flatten(item, f"{where}[{key!r}]")
    else:
        yield where, None, value


def noting(called: set[str], name: str, function):
    """``function``, adding ``name`` to ``called`` on each call."""

    def noted(*args, **kwargs):
        called.add(name)
        return function(*args, **kwargs)

    return noted


def test_the_coder_door_never_touches_the_key_in_sql_or_in_what_it_returns(demo_study, monkeypatch):
    """Every public function of blinded, as rater and fidelity coder: no key table in the SQL, no key value returned."""
    store = demo_study.store
    public = {
        name
        for name, function in inspect.getmembers(blinded, inspect.isfunction)
        if function.__module__ == blinded.__name__ and not name.startswith("_")
    }
    called: set[str] = set()
    for name in public:  # noted when called, so that a function added to the door cannot miss the crawl
        monkeypatch.setattr(blinded, name, noting(called, name, getattr(blinded, name)))
    statements: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    returned = []
    for name, _scale, score in (("rater.one", "ea_sensitivity", 5.5), ("fidelity.one", "vipp_adherence", 4)):
        account = demo_study.accounts[name]
        items = blinded.queue(store, account)
        returned += [items, blinded.resume_code(items), blinded.coding_closed(store, account)]
        assert len(items) >= 3
        for item in items[:2]:
            task = blinded.task(store, account, item.code)
            returned += [
                task,
                blinded.media(store, account, item.code),
                blinded.playback_facts(store, account, item.code, demo_study.media),
            ]
            for definition in task.scales:
                returned.append(blinded.save_draft(store, account, item.code, definition.key, score))
            returned.append(blinded.save_notes(store, account, item.code, "seen"))
            returned += [
                blinded.submit(store, account, item.code),
                blinded.task(store, account, item.code),
                blinded.coding_closed(store, account, item.code),
            ]
        returned.append(blinded.flag(store, account, items[2].code, "other", "the picture freezes"))
        returned.append(blinded.queue(store, account))
        assert items[2].code not in [item.code for item in returned[-1]]
        with pytest.raises(NotFound):
            blinded.task(store, account, "NOTACODE")
    event.remove(store.engine, "before_cursor_execute", capture)

    # The capture works on both the reading and the writing engine.
    assert any(re.match(r"\s*INSERT INTO rating\b", s) for s in statements)
    assert any(re.search(r"\bFROM assignment\b", s) for s in statements)
    for statement in statements:
        for table in ("participant", "recording_key", "draw", "draw_member"):
            assert not re.search(rf"\b{table}\b", statement, re.IGNORECASE), statement
        if re.search(r"\baudit\b", statement, re.IGNORECASE):  # only ever appended to (a change's own log row)
            assert re.match(r"\s*INSERT INTO audit\b", statement) and "SELECT" not in statement.upper(), statement

    with store.read() as db:
        codebook = study_codebook(db)
    tasks = [r for r in returned if isinstance(r, blinded.Task)]
    assert tasks and all(d == codebook[d.key] for t in tasks for d in t.scales)
    for where, field, value in flatten(returned):
        assert field is None or not any(word in field.lower() for word in KEY_FIELD_WORDS), where
        shown = str(value).casefold()
        for leak in demo_study.leaks:
            assert leak.casefold() not in shown, (where, leak)
    media = [r for r in returned if isinstance(r, blinded.Media)]
    assert media and all(re.fullmatch(r"[0-9a-f]{32}\.(mp4|m4a|wav|mp3)", m.name) for m in media)
    assert called == public


# ------------------------------------------------------------------------------ the module


CODING_APP = Path(blinded.__file__).parent
KEY_WRITERS = {"coding_app.audit": {"AuditEntry"}}
"""Every action appends to the audit log, the door's included; reading the log is audit_log's job (PI only)."""
PI_MODULES = {"unblinding", "audit_log", "sampling", "export", "imports"}
Source = Callable[[str], "tuple[str, bool] | None"]


def module_source(name: str) -> tuple[str, bool] | None:
    """The source of one of our modules and whether it is a package; None for anything else."""
    if name.split(".")[0] != "coding_app":
        return None
    base = CODING_APP.parent.joinpath(*name.split("."))
    for path, package in ((base.with_suffix(".py"), False), (base / "__init__.py", True)):
        if path.exists():
            return path.read_text(), package
    return None


def key_readers(start: str, source: Source) -> tuple[dict[str, tuple[list[str], set[str]]], dict[str, list[str]]]:
    """Walk the imports from ``start``, through every module of ours it reaches: the modules that import or name a
    key model, {module: (the chain of imports from ``start``, the models)}, and every module reached with its chain."""
    chains, todo, found = {start: [start]}, [start], {}
    while todo:
        name = todo.pop()
        text, package = source(name)
        here = name if package else name.rpartition(".")[0]
        imported, named = set(), set()
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                parts = here.split(".")[: len(here.split(".")) - node.level + 1] if node.level else []
                module = ".".join([*parts, *([node.module] if node.module else [])])
                imported |= {module} | {f"{module}.{alias.name}" for alias in node.names}  # `from . import ratings`
                named |= {alias.name for alias in node.names}
            elif isinstance(node, ast.Name):
                named.add(node.id)
            elif isinstance(node, ast.Attribute):
                named.add(node.attr)
        models = (KEY_MODELS & named) - KEY_WRITERS.get(name, set())
        if models and name != "coding_app.store.models":  # where the tables are declared, not read
            found[name] = (chains[name], models)
        for module in sorted(imported - chains.keys()):
            if source(module) is not None:
                chains[module] = [*chains[name], module]
                todo.append(module)
    return found, chains


def test_no_module_the_coders_door_imports_reads_the_key():
    """blinded.py, and every module of ours it imports, directly or through others, neither imports nor names
    Participant, RecordingKey, Withdrawal, Draw, DrawMember or AuditEntry, and none is a PI-side module."""
    found, chains = key_readers("coding_app.blinded", module_source)
    assert not found, {name: f"{' -> '.join(chain)} names {sorted(models)}" for name, (chain, models) in found.items()}
    assert not [" -> ".join(chain) for name, chain in chains.items() if PI_MODULES & set(name.split("."))]
    assert {"coding_app.ratings", "coding_app.study", "coding_app.store.models"} <= chains.keys()  # it walks
    imported = {
        a.name
        for n in ast.walk(ast.parse(inspect.getsource(blinded)))
        if isinstance(n, ast.ImportFrom)
        for a in n.names
    }
    assert "*" not in imported
    assert {"Recording", "Assignment", "Rating"} <= imported  # the check looks where the models come from


def test_the_import_walk_finds_a_key_model_two_imports_away():
    """A planted chain: the door imports ratings, which imports a helper that reads the key."""
    planted = {
        "coding_app": ("", True),
        "coding_app.blinded": ("from . import ratings\nfrom .store.models import Recording\n", False),
        "coding_app.ratings": ("from .helpers import code_of\n\ncode_of(1)\n", False),
        "coding_app.helpers": ("from .store import models\n\nmodels.RecordingKey\n", False),
        "coding_app.store": ("", True),
        "coding_app.store.models": ("class RecordingKey: ...\n", False),
    }
    found, chains = key_readers("coding_app.blinded", planted.get)
    assert found == {
        "coding_app.helpers": (["coding_app.blinded", "coding_app.ratings", "coding_app.helpers"], {"RecordingKey"})
    }
    assert chains.keys() == planted.keys()


# ------------------------------------------------------------------------ queue and refusals


@pytest.fixture
def queued(study):
    """Six videos imported in order V1..V6; rater.one has all of them at seed 4, rater.two none."""
    study.codes = add_recordings(
        study.store,
        [dict(recording_id=f"V{n}", participant_id=f"P{n}", kind="video", timepoint="baseline") for n in range(1, 7)],
    )
    study.accounts = {
        name: add_account(study.store, name, role)
        for name, role in (
            ("rater.one", "coder"),
            ("rater.two", "coder"),
            ("fidelity.one", "fidelity"),
            ("pi.one", "pi"),
        )
    }
    assign(study.store, ["rater.one"], kind="video", seed=4, actor="pi.one")
    return study


def positions(store, name: str) -> list[str]:
    with store.read() as db:
        return list(
            db.scalars(
                select(Recording.code)
                .join(Assignment, Assignment.recording_id == Recording.id)
                .join(Account, Account.id == Assignment.account_id)
                .where(Account.name == name)
                .order_by(Assignment.position)
            )
        )


def test_the_queue_follows_the_coders_random_positions_not_import_order(queued):
    """Queue order is assignment position order, numbered 1..n, and differs from import (visit) order."""
    items = blinded.queue(queued.store, queued.accounts["rater.one"])
    import_order = [queued.codes[f"V{n}"] for n in range(1, 7)]
    assert [i.code for i in items] == positions(queued.store, "rater.one")
    assert [i.code for i in items] != import_order
    assert [i.position for i in items] == [1, 2, 3, 4, 5, 6]
    assert {i.status for i in items} == {"not started"} and {i.kind for i in items} == {"video"}

    # Positions, not insertion order, decide: swap the first and last and the queue follows.
    with queued.store.write() as db:
        for position, new in ((1, 100), (6, 1), (100, 6)):
            db.execute(
                text("UPDATE assignment SET position = :new WHERE position = :old"), {"new": new, "old": position}
            )
    swapped = [i.code for i in blinded.queue(queued.store, queued.accounts["rater.one"])]
    assert swapped == [items[5].code, *[i.code for i in items[1:5]], items[0].code]


def test_resume_code_skips_submitted_recordings(queued):
    """Resume at the first recording not yet submitted; None when everything is."""
    store, rater = queued.store, queued.accounts["rater.one"]
    order = [i.code for i in blinded.queue(store, rater)]

    def finish(code: str) -> None:
        for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
            blinded.save_draft(store, rater, code, scale, 5)
        assert blinded.submit(store, rater, code)

    finish(order[0])
    finish(order[2])
    blinded.save_draft(store, rater, order[1], "ea_sensitivity", 4)
    items = blinded.queue(store, rater)
    assert [i.status for i in items[:4]] == ["submitted", "in progress", "submitted", "not started"]
    assert blinded.resume_code(items) == order[1]
    for code in order[1:2] + order[3:]:
        finish(code)
    assert blinded.resume_code(blinded.queue(store, rater)) is None


def test_a_recording_outside_the_queue_is_reported_exactly_like_one_that_does_not_exist(queued):
    """Another coder's recording, another kind's coder, a made-up code: the same NotFound, the same message."""
    store, code = queued.store, queued.codes["V1"]
    calls = {
        "task": lambda account, c: blinded.task(store, account, c),
        "media": lambda account, c: blinded.media(store, account, c),
        "save_draft": lambda account, c: blinded.save_draft(store, account, c, "ea_sensitivity", 5),
        "submit": lambda account, c: blinded.submit(store, account, c),
    }
    counts = row_counts(store)
    for name, call in calls.items():
        messages = set()
        for account, asked in (
            (queued.accounts["rater.two"], code),
            (queued.accounts["fidelity.one"], code),
            (queued.accounts["rater.two"], "XXXXXXXX"),
        ):
            with pytest.raises(NotFound) as refused:
                call(account, asked)
            messages.add(str(refused.value))
        assert messages == {blinded.NOT_ASSIGNED}, name
    # Nothing changed but the audit log, which keeps one refusal per attempt, alike for all three.
    assert row_counts(store) == counts | {"audit": counts["audit"] + 12}
    refusals = audit_rows(store, "refused.recording")
    assert len(refusals) == 12 and {r.reason for r in refusals} == {blinded.NOT_ASSIGNED}


def test_a_pi_is_refused_by_role_at_the_coder_door(queued):
    """The coder door serves coder and fidelity accounts only: a PI gets NotAllowed from each function."""
    store, pi, code = queued.store, queued.accounts["pi.one"], queued.codes["V1"]
    for call in (
        lambda: blinded.queue(store, pi),
        lambda: blinded.task(store, pi, code),
        lambda: blinded.media(store, pi, code),
        lambda: blinded.submit(store, pi, code),
        lambda: blinded.save_draft(store, pi, code, "ea_sensitivity", 5),
    ):
        with pytest.raises(NotAllowed):
            call()


def test_a_coder_of_the_other_kind_is_refused_even_with_a_stray_assignment(queued):
    """Video is for coder accounts: a fidelity account holding a video assignment (written straight to the
    tables, as an import could) is not served it by the coder door."""
    store, fidelity, code = queued.store, queued.accounts["fidelity.one"], queued.codes["V1"]
    with store.write() as db:
        recording_id = db.scalar(select(Recording.id).where(Recording.code == code))
        stray = Assignment(account_id=fidelity.id, recording_id=recording_id, position=1)
        db.add(stray)
        db.flush()
        db.add(
            AssignmentScale(
                assignment_id=stray.id, scale_id=db.scalar(select(ScaleRow.id).where(ScaleRow.key == "ea_sensitivity"))
            )
        )

    assert [i.code for i in blinded.queue(store, fidelity)] == []
    for call in (
        lambda: blinded.task(store, fidelity, code),
        lambda: blinded.media(store, fidelity, code),
        lambda: blinded.save_draft(store, fidelity, code, "ea_sensitivity", 5),
    ):
        with pytest.raises((NotAllowed, NotFound)):
            call()


def test_a_coder_never_sees_another_coders_ratings(queued):
    """After rater.one submits, rater.two's task on the same recording shows no ratings at all."""
    store, code = queued.store, queued.codes["V1"]
    for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
        blinded.save_draft(store, queued.accounts["rater.one"], code, scale, 6.5)
    blinded.save_notes(store, queued.accounts["rater.one"], code, "very warm")
    blinded.submit(store, queued.accounts["rater.one"], code)
    assign(store, ["rater.two"], kind="video", recordings="all", seed=1, actor="pi.one")

    task = blinded.task(store, queued.accounts["rater.two"], code)

    assert task.ratings == {} and task.notes == "" and task.submitted is False
    assert {i.status for i in blinded.queue(store, queued.accounts["rater.two"])} == {"not started"}


# ------------------------------------------------------------------------------- unblinding


def test_unblinding_is_for_pis_only_and_every_use_is_audited(queued):
    """Coders get NotAllowed (and leave no trace); a PI gets the key and the log, each read leaving an audit row."""
    store = queued.store
    for name in ("rater.one", "fidelity.one"):
        with pytest.raises(NotAllowed):
            unblinding.key_table(store, queued.accounts[name], "curious")
        with pytest.raises(NotAllowed):
            audit_log.audit_entries(store, queued.accounts[name])
    assert audit_rows(store, "unblind.key_table") == [] and audit_rows(store, "audit.read") == []

    key = unblinding.key_table(store, queued.accounts["pi.one"], "outcome analysis")

    assert dict(zip(key["code"], key["participant_id"], strict=True)) == {
        queued.codes[f"V{n}"]: f"P{n}" for n in range(1, 7)
    }
    assert list(key.columns) == ["code", *unblinding.KEY_COLUMNS]
    [entry] = audit_rows(store, "unblind.key_table")
    assert (entry.actor, entry.reason, entry.new) == ("pi.one", "outcome analysis", {"rows": 6})

    log = audit_log.audit_entries(store, queued.accounts["pi.one"])

    assert "unblind.key_table" in set(log["action"]) and "assignment.add" in set(log["action"])
    [read] = audit_rows(store, "audit.read")
    assert (read.actor, read.new) == ("pi.one", {"rows": len(log)})


# ------------------------------------------------------------------------ text inside the files

# What a camera or recorder may write about the visit: participant, date, serial number, position.
PLANTED = ("PARTICIPANT-4711", "2024-03-05", "SERIAL-HV320-0042", "+53.4808-002.2426")


@pytest.fixture(scope="module")
def text_laden(tmp_path_factory) -> dict[str, Path]:
    """Files carrying the planted text everywhere a container or stream can: H.264 SEI user data (as AVCHD cameras
    write it), subtitle streams, attachments, chapters, container and stream tags, ID3 frames, cover art, BWF bext."""
    root = tmp_path_factory.mktemp("text-laden")
    participant, date, serial, place = PLANTED
    say = f"{participant} visit {date} camera {serial} at {place}"
    (root / "captions.srt").write_text(f"1\n00:00:00,000 --> 00:00:00,900\n{say}\n", encoding="utf-8")
    (root / "notes.txt").write_text(say, encoding="utf-8")
    (root / "chapters.txt").write_text(
        f";FFMETADATA1\ntitle={say}\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=500\ntitle={say}\n", encoding="utf-8"
    )
    tags = [
        "-metadata",
        f"title={say}",
        "-metadata",
        f"comment={say}",
        "-metadata",
        f"location={place}",
        "-metadata:s:0",
        f"title={say}",
        "-metadata:s:0",
        f"handler_name={serial}",
    ]
    sei = ["-bsf:v", f"h264_metadata=sei_user_data=086f3693-b7b3-4f2c-9653-21492feee5b8+{say}"]
    picture = ["-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10:duration=1"]
    sound = ["-f", "lavfi", "-i", "sine=frequency=440:duration=1"]
    text_inputs = ["-i", str(root / "captions.srt"), "-i", str(root / "chapters.txt")]
    files = {
        "h264.mkv": [
            *picture,
            *sound,
            *text_inputs,
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-map_chapters",
            "3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            *sei,
            "-c:a",
            "aac",
            "-c:s",
            "srt",
            "-attach",
            str(root / "notes.txt"),
            "-metadata:s:t",
            "mimetype=text/plain",
            *tags,
        ],
        "h264.mp4": [
            *picture,
            *sound,
            *text_inputs,
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-map_chapters",
            "3",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            *sei,
            "-c:a",
            "aac",
            "-c:s",
            "mov_text",
            *tags,
        ],
        "mpeg4.mov": [
            *picture,
            *sound,
            *text_inputs,
            "-map",
            "0",
            "-map",
            "1",
            "-map",
            "2",
            "-map_chapters",
            "3",
            "-c:v",
            "mpeg4",
            "-c:a",
            "pcm_s16le",
            "-c:s",
            "mov_text",
            *tags,
        ],
        "voice.mp3": [
            *sound,
            *picture,
            "-i",
            str(root / "chapters.txt"),
            "-map",
            "0",
            "-map",
            "1",
            "-map_chapters",
            "2",
            "-c:a",
            "libmp3lame",
            "-c:v",
            "png",
            "-disposition:v",
            "attached_pic",
            "-metadata",
            f"lyrics={say}",
            *tags,
        ],
        "voice.wav": [
            *sound,
            "-c:a",
            "pcm_s16le",
            "-write_bext",
            "1",
            "-metadata",
            f"description={say}",
            "-metadata",
            f"originator={serial}",
            "-metadata",
            f"origination_date={date}",
            *tags,
        ],
    }
    made = {}
    for name, args in files.items():
        made[name] = root / name
        subprocess.run(
            ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args, "-shortest", str(made[name])], check=True
        )
        assert PLANTED[0].encode() in made[name].read_bytes(), name  # the text is really there to be found
    assert ffprobe(made["h264.mkv"])["streams"][0]["codec_name"] == "h264"  # (copied, unless normalising)
    return made


@pytest.mark.parametrize("normalise", [False, True], ids=["copy", "normalise"])
def test_no_text_inside_a_file_reaches_the_coders_copy(study, write_manifest, text_laden, normalise):
    """Copied H.264 (its SEI units dropped), re-encoded video and audio: the stored bytes hold none of the planted
    text and no encoder's name or version, though the originals carry them in every place a file can."""
    media_setting(study, normalise)
    rows = [
        dict(
            recording_id=f"R{i}",
            participant_id="P01",
            site="North",
            timepoint="baseline",
            path=str(path),
            kind="audio" if path.suffix in (".mp3", ".wav") else "video",
            session="1",
        )
        for i, path in enumerate(text_laden.values())
    ]

    summary = import_manifest(study.store, study.media, write_manifest(rows), "importer")

    stored = {key.original_path: recording for recording, key, _ in keys_by_external_id(study.store).values()}
    assert summary.transcoded == (5 if normalise else 3)  # copying, the H.264 of the MKV and MP4 is not re-encoded
    for original, recording in stored.items():
        content = study.media.path(recording.media_name).read_bytes()
        found = [text for text in PLANTED if text.encode() in content] + ENCODER_TEXT.findall(content)
        assert not found, (Path(original).name, found)
        kinds = [s["codec_type"] for s in ffprobe(study.media.path(recording.media_name))["streams"]]
        assert kinds == (["video", "audio"] if recording.kind == "video" else ["audio"])
