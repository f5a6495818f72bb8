"""Fixtures for the study-store tests: tiny leaky media, manifests, an initialised study."""

from __future__ import annotations

import subprocess
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from coding_app.codebook import DEFAULT_CODEBOOK, load_codebook
from coding_app.imports.manifest import MANIFEST_COLUMNS
from coding_app.media import MediaStore
from coding_app.store import Store
from coding_app.study_setup import initialise
from fixtures.demo import build_demo
from tests.coding_app.helpers import manifest_rows, write_csv
from tests.conftest import TEMPLATE

# What the leaky test clips give away in their names and container tags.
LEAKY_PARTICIPANT = "PARTICIPANT-4711"
LEAKY_DATE = "2024-03-05"
LEAKY_PLACE = "+53.4808-002.2426/"
ARMS = ("VIPP-PMH", "usual care")
TIMEPOINTS = ("baseline", "month 5", "month 8")


@dataclass(frozen=True)
class Clips:
    """One small file of each sort the importer meets; every file's content is distinct."""

    mp4: Path  # H.264 + AAC: browsers play it, so it is copied
    mp4_other: Path  # a second, different H.264 clip
    mov: Path  # MJPEG + PCM, with creation_time, title, comment, location, make, model
    mts: Path  # MPEG-2 + MP2 transport stream, participant in the program's service_name
    m4a: Path  # AAC audio, title naming the participant
    wav: Path  # PCM audio
    text_as_mp4: Path  # a text file renamed .mp4
    empty: Path  # zero bytes

    @property
    def leaky(self) -> tuple[Path, ...]:
        return (self.mp4, self.mov, self.mts, self.m4a)

    def wav_variant(self, directory: Path, number: int, name: str | None = None) -> Path:
        """A copy of the wav clip with a few samples changed: a different recording by content."""
        data = bytearray(self.wav.read_bytes())
        data[-8:] = number.to_bytes(8, "little")
        path = directory / (name or f"session audio {number}.wav")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(bytes(data))
        return path


def _tags(**tags: str) -> list[str]:
    return [arg for key, value in tags.items() for arg in ("-metadata", f"{key}={value}")]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> Clips:
    """Seven one-second clips (and two non-media files), made once per test session."""
    root = tmp_path_factory.mktemp("clips")

    def video(hue: int, tone: int) -> list[str]:
        return [
            *("-f", "lavfi", "-i", f"testsrc2=size=160x120:rate=10:duration=1,hue=h={hue}"),
            *("-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=22050:duration=1"),
        ]

    def tone(freq: int, rate: int) -> list[str]:
        return ["-f", "lavfi", "-i", f"sine=frequency={freq}:sample_rate={rate}:duration=1"]

    leaks = dict(
        creation_time=f"{LEAKY_DATE}T10:22:00Z",
        date=LEAKY_DATE,
        title=f"{LEAKY_PARTICIPANT} baseline play",
        comment=f"Participant {LEAKY_PARTICIPANT}, North site",
        location=LEAKY_PLACE,
    )
    clips = Clips(
        mp4=root / f"{LEAKY_PARTICIPANT}_baseline_play.mp4",
        mp4_other=root / "second_clip.mp4",
        mov=root / f"{LEAKY_PARTICIPANT}_month5_play.MOV",
        mts=root / f"{LEAKY_PARTICIPANT}_month8_play.MTS",
        m4a=root / f"{LEAKY_PARTICIPANT}_session3.m4a",
        wav=root / "session_tone.wav",
        text_as_mp4=root / "notes_not_a_video.mp4",
        empty=root / "empty_recording.mp4",
    )
    h264 = ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", "-shortest"]
    jobs = [
        [*video(0, 440), *h264, *_tags(**leaks), "-f", "mp4", str(clips.mp4)],
        [*video(120, 660), *h264, "-f", "mp4", str(clips.mp4_other)],
        [
            *video(240, 550),
            "-c:v",
            "mjpeg",
            "-q:v",
            "8",
            "-pix_fmt",
            "yuvj420p",
            "-c:a",
            "pcm_s16le",
            "-shortest",
            *_tags(**leaks, make="Pellam", model="iCam 5"),
            "-f",
            "mov",
            str(clips.mov),
        ],
        [
            *video(60, 770),
            "-c:v",
            "mpeg2video",
            "-q:v",
            "6",
            "-c:a",
            "mp2",
            "-b:a",
            "64k",
            "-shortest",
            *_tags(service_name=f"{LEAKY_PARTICIPANT} month 8 {LEAKY_DATE} 10:22", service_provider="Orrin AVC-90"),
            "-f",
            "mpegts",
            str(clips.mts),
        ],
        [
            *tone(880, 22050),
            "-c:a",
            "aac",
            "-b:a",
            "32k",
            *_tags(
                title=f"Session 3 with {LEAKY_PARTICIPANT}",
                creation_time=f"{LEAKY_DATE}T10:22:00Z",
                location=LEAKY_PLACE,
            ),
            "-f",
            "ipod",
            str(clips.m4a),
        ],
        [*tone(330, 8000), "-c:a", "pcm_s16le", "-f", "wav", str(clips.wav)],
    ]
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda args: _ffmpeg(*args), jobs))
    clips.text_as_mp4.write_text("Visit notes for the baseline play session.\n" * 20)
    clips.empty.write_bytes(b"")
    return clips


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Path:
    """The synthetic demo study (60 leaky clips), built once per session; returns its manifest."""
    return build_demo(tmp_path_factory.mktemp("demo"))


@dataclass
class Study:
    store: Store
    media: MediaStore
    root: Path

    def declare_arms(self, arms: tuple[str, ...] = ARMS, timepoints: tuple[str, ...] = TIMEPOINTS) -> None:
        """Re-initialise with a codebook whose [study] section declares the trial's arms and timepoints."""
        listed = lambda labels: ", ".join(f'"{label}"' for label in labels)  # noqa: E731
        path = self.root / "codebook-with-arms.toml"
        path.write_text(
            DEFAULT_CODEBOOK.read_text(encoding="utf-8")
            + f"\n[study]\narms = [{listed(arms)}]\ntimepoints = [{listed(timepoints)}]\n",
            encoding="utf-8",
        )
        initialise(self.store, load_codebook(path), "test")


@pytest.fixture
def write_manifest(tmp_path):
    """Write manifest rows (dicts; unspecified columns blank) as a CSV in tmp_path; returns its path."""

    def write(rows, name: str = "manifest.csv", extra: tuple[str, ...] = ()) -> Path:
        return write_csv(tmp_path / name, manifest_rows(rows), (*MANIFEST_COLUMNS, *extra))

    return write


@pytest.fixture
def study(store, tmp_path) -> Study:
    """An initialised study (default codebook) on the parametrized store, and an empty media folder."""
    initialise(store, load_codebook(), "test")
    return Study(store, MediaStore(tmp_path / "media"), tmp_path)


@pytest.fixture
def fresh_store(request, tmp_path):
    """Make another empty, migrated database on the same backend as this test's ``store``."""
    made: list[Store] = []

    def make() -> Store:
        if request.node.callspec.params["store"] == "sqlite":
            other = Store(f"sqlite:///{tmp_path / f'other-{len(made)}.db'}")
            other.upgrade()
        else:
            cluster = request.getfixturevalue("postgres")
            other = Store(cluster.create_database(f"other_{uuid.uuid4().hex}", template=TEMPLATE))
        made.append(other)
        return other

    yield make
    for other in made:
        other.dispose()
