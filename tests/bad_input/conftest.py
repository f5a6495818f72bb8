"""The bad-input library's files and media, and one set-up study per database to import them into.

Setting up a study imports media through ffmpeg, so it is done once per database; every refused
case shares that study (a refusal must leave it exactly as it was, which is what is checked),
and every case that imports gets its own copy of it, made without ffmpeg.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from coding_app.imports.allocation import import_allocation
from coding_app.imports.manifest import import_manifest
from coding_app.imports.ratings import import_ratings
from coding_app.media import MediaStore
from coding_app.store import Store
from fixtures.bad_input import build
from tests.coding_app.conftest import Study
from tests.coding_app.helpers import add_account
from tests.conftest import TEMPLATE

# The media the library's manifests name, relative to the library folder; every file's content is distinct.
VIDEOS = (
    "media/base video 1.mp4",
    "media/base video 2.mp4",
    "media/fresh video.mp4",
    "media/crlf clip.mp4",
    "media/Vidéos d'été/mère et bébé 01.mp4",
)
SOUNDS = (
    "media/base session 1.wav",
    "media/base session 3.wav",
    "media/base session 4.wav",
    "media/fresh session.wav",
    "media/fresh session 2.wav",
    "media/sound only.wav",
    "media/Séances/séance n° 1.wav",
    "media/windows folder/clip.wav",
    "media/xlsx session.wav",
    "../outside session.wav",
)
ACCOUNTS = (("rater.one", "coder"), ("rater.two", "coder"), ("fidelity.one", "fidelity"), ("pi.one", "pi"))


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True, capture_output=True)


def _video(path: Path, number: int) -> None:
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=96x64:rate=5:duration=1,hue=h={number * 60}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency={300 + 100 * number}:sample_rate=8000:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-b:a",
        "16k",
        "-shortest",
        "-f",
        "mp4",
        str(path),
    )


def make_media(library: Path) -> None:
    """Tiny playable videos and sounds under the names the manifests use, and the files that are not media."""
    for relative in (*VIDEOS, *SOUNDS):
        (library / relative).parent.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda numbered: _video(library / numbered[1], numbered[0]), enumerate(VIDEOS)))
    sound = library / "media" / "tone.wav"
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=330:sample_rate=8000:duration=1", "-c:a", "pcm_s16le", str(sound))
    data = bytearray(sound.read_bytes())
    sound.unlink()
    for number, relative in enumerate(SOUNDS):
        data[-8:] = number.to_bytes(8, "little")  # a few samples changed: a different recording by content
        (library / relative).write_bytes(bytes(data))
    (library / "media" / "empty.mp4").write_bytes(b"")
    (library / "media" / "notes.mp4").write_text("Visit notes for the baseline play session.\n" * 20)
    (library / "media" / "a folder.mp4").mkdir()


@pytest.fixture(scope="session")
def library(tmp_path_factory) -> Path:
    """The library's files in a folder of their own, with the media they name."""
    folder = build(tmp_path_factory.mktemp("bad-input") / "library")
    make_media(folder)
    return folder


@dataclass
class ImportStudy:
    """A study to import into: its database, media folder and the library the files come from."""

    store: Store
    media: MediaStore
    library: Path


def set_up(store: Store, media: MediaStore, root: Path, library: Path) -> None:
    """The study the cases assume (see cases.toml): declared arms, accounts, recordings, an allocation, ratings."""
    Study(store, media, root).declare_arms()
    for name, role in ACCOUNTS:
        add_account(store, name, role)
    import_manifest(store, media, library / "setup-manifest.csv", "setup")
    import_allocation(store, library / "setup-allocation.csv", "setup")
    import_ratings(store, library / "setup-ratings.csv", "setup")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def copy_study(request, library, tmp_path_factory) -> Iterator[Callable[[], ImportStudy]]:
    """Makes copies of one set-up study on this database; the original is never touched after set-up."""
    root = tmp_path_factory.mktemp(f"bad-input-{request.param}")
    if request.param == "sqlite":
        original = Store(f"sqlite:///{root / 'original.db'}")
        original.upgrade()
    else:
        cluster = request.getfixturevalue("postgres")
        name = f"bad_input_{uuid.uuid4().hex}"
        original = Store(cluster.create_database(name, template=TEMPLATE))
    set_up(original, MediaStore(root / "original-media"), root, library)
    original.dispose()  # a PostgreSQL template may have no one connected
    made: list[Store] = []

    def copy() -> ImportStudy:
        number = len(made)
        if request.param == "sqlite":
            shutil.copyfile(root / "original.db", root / f"copy-{number}.db")
            store = Store(f"sqlite:///{root / f'copy-{number}.db'}")
        else:
            store = Store(cluster.create_database(f"{name}_{number}", template=name))
        made.append(store)
        media = Path(shutil.copytree(root / "original-media", root / f"copy-{number}-media"))
        return ImportStudy(store, MediaStore(media), library)

    yield copy
    for store in made:
        store.dispose()


@pytest.fixture(scope="module")
def shared(copy_study) -> ImportStudy:
    """One copy of the set-up study that every refused case of this module imports into."""
    return copy_study()


@pytest.fixture
def fresh(copy_study) -> ImportStudy:
    """A copy of the set-up study of its own, for a case that imports."""
    return copy_study()
