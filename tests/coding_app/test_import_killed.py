"""`obscode import` killed with SIGKILL mid-conversion: the orphans it leaves go at the next import.

A real `obscode import` converts two short clips and is part-way through a two-minute one when
its whole process group (the command and its ffmpeg) is killed: no clean-up code runs. The media
folder then holds two finished blinded copies and a `.partial` file that no database row names,
and the database is as before. A later `obscode import` removes them, and only them; so does the
next start of the app (`obscode run`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from coding_app.imports.manifest import MANIFEST_COLUMNS, import_manifest
from coding_app.media import LOCK
from tests.coding_app.helpers import keys_by_external_id, manifest_rows, media_listing, row_counts, write_csv
from tests.faults.test_app_killed import obscode_run

OBSCODE = Path(sys.executable).with_name("obscode")
# A guard against a hung command only; the test waits for files, not for a time.
GIVE_UP_SECONDS = 600


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """Two minutes of MPEG-2 camera video: seconds to make, long enough to be caught mid-conversion."""
    path = tmp_path_factory.mktemp("long") / "P0042_month8_play.MTS"
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=120",
            "-f",
            "lavfi",
            "-i",
            "sine=duration=120",
            "-c:v",
            "mpeg2video",
            "-q:v",
            "8",
            "-c:a",
            "mp2",
            "-f",
            "mpegts",
            str(path),
        ],
        check=True,
    )
    return path


def obscode(study, *args: str, **popen) -> subprocess.Popen:
    command = [str(OBSCODE), "--db", study.store.url, "--media", str(study.media.root), "--as", "importer", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **popen)


def mid_conversion(root: Path) -> bool:
    """Two copies finished and the third one's partial file being written."""
    if not root.is_dir():
        return False
    names = [p for p in root.iterdir() if p.name != LOCK]
    partials = [p for p in names if p.name.endswith(".partial")]
    return len(names) - len(partials) == 2 and any(p.stat().st_size > 0 for p in partials)


def test_a_later_import_removes_the_copies_of_an_import_killed_mid_conversion(study, clips, long_clip):
    """SIGKILL mid-conversion leaves orphans and no row; the next `obscode import` removes exactly those."""
    rows = [
        dict(
            recording_id=f"V{n}", participant_id="P01", site="North", kind="video", timepoint="baseline", path=str(path)
        )
        for n, path in enumerate((clips.mp4, clips.mov, long_clip), 1)
    ]
    first = write_csv(study.root / "first.csv", manifest_rows(rows), MANIFEST_COLUMNS)
    before = row_counts(study.store)

    killed = obscode(study, "import", str(first), start_new_session=True)
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while not mid_conversion(study.media.root):
        assert killed.poll() is None, "the import ended before it could be killed: " + killed.stdout.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(killed.pid, signal.SIGKILL)
    killed.wait()

    orphans = [name for name, _ in media_listing(study.media.root) if name != LOCK]
    assert len(orphans) == 3 and sum(name.endswith(".partial") for name in orphans) == 1
    assert row_counts(study.store) == before

    audio = dict(recording_id="A1", participant_id="P01", site="North", kind="audio", path=str(clips.wav))
    later = write_csv(study.root / "later.csv", manifest_rows([audio]), MANIFEST_COLUMNS)
    output, _ = obscode(study, "import", str(later)).communicate(timeout=GIVE_UP_SECONDS)
    assert output.decode().splitlines()[-1].startswith("imported 1 recordings"), output.decode()  # after its progress

    [(recording, _, _)] = keys_by_external_id(study.store).values()
    assert [name for name, _ in media_listing(study.media.root)] == sorted([LOCK, recording.media_name])
    assert row_counts(study.store)["recording"] == before["recording"] + 1


def test_an_app_start_removes_orphans_and_keeps_named_media(study, clips, write_manifest, tmp_path):
    """Files named as the store names them but by no recording (as a killed import leaves them) are gone once a
    real `obscode run` answers; the recordings' own files and the database are as they were."""
    import_manifest(
        study.store,
        study.media,
        write_manifest([dict(recording_id="A1", participant_id="P01", kind="audio", path=str(clips.wav))]),
        "importer",
    )
    named = media_listing(study.media.root)
    orphans = [
        study.media.root / "0123456789abcdef0123456789abcdef.mp4",
        study.media.root / ".fedcba9876543210fedcba9876543210.mp4.partial",
    ]
    for path in orphans:
        path.write_bytes(b"left by a killed import")
    counts = row_counts(study.store)
    env = os.environ | {"OBSCODE_DATABASE_URL": study.store.url, "OBSCODE_MEDIA_DIR": str(study.media.root)}

    with obscode_run(env, tmp_path / "server.log"):
        assert media_listing(study.media.root) == named

    assert row_counts(study.store) == counts
