"""The blinded media store: recordings copied in under opaque names, stripped and playable.

On import every file is rewritten by ffmpeg: only its first video and first audio stream are
kept (no subtitle, data, attachment or timecode stream, no chapters), container and stream
metadata (creation dates that reveal the visit, device, location, titles) are dropped, and text
inside the streams goes too: H.264 SEI units without re-encoding, audio by re-encoding it. A study
that normalises (the default for new studies) re-encodes every recording to one profile; otherwise
a video a browser cannot play (.MTS, .MOV with odd codecs, ...) is transcoded to MP4/H.264 + AAC
and one it plays is copied. The original's metadata is kept for the PI in the unblinding key.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from .store import Store
from .store.models import Recording

DEFAULT_MEDIA_DIR = Path("var/media")
_CHUNK = 1 << 20
LOCK = ".lock"
# The store's record of its files' SHA-256 hashes (sha256sum format), taken when a backup first copies a file:
# a later change to the file (a flipped bit, an edit) no longer matches it.
HASHES = ".sha256"
# What the store itself writes: a random token and an extension, or a hidden work file while ffmpeg writes it.
_OWN_NAME = re.compile(r"[0-9a-f]{32}\.[a-z0-9]+|\.[0-9a-f]{32}\.[a-z0-9]+\.partial")

# Video codecs browsers play, copied when the study does not normalise: codec -> (extension, MIME type).
_BROWSER_VIDEO = {"h264": ("mp4", "video/mp4"), "vp9": ("webm", "video/webm"), "vp8": ("webm", "video/webm")}
# Audio is always re-encoded: AAC fill elements, MP3 ancillary data and Vorbis comment headers carry
# an encoder's or recorder's text inside the stream, and no bitstream filter removes it.
_AUDIO_FOR = {"mp4": ["-c:a", "aac", "-b:a", "128k"], "webm": ["-c:a", "libopus", "-b:a", "96k"]}
# H.264 units a player needs: slices (1-5), parameter sets (7, 8), delimiters and ends (9-11). The rest
# goes, SEI (6) above all: cameras write serial numbers, dates and GPS there, x264 its option string,
# broadcasters captions; a stream copy would keep them all. Units are dropped, nothing is re-encoded.
_H264_UNITS = ["-bsf:v", "filter_units=pass_types=1-5|7-11"]
_X264 = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
# The study's one profile when it normalises: every video H.264 High at 1280x720 (scaled to fit,
# square pixels, centred on black), 25 frames/s, BT.709 limited range; all sound AAC-LC 48 kHz mono.
# Then codec, profile, size, rate, colour tags and audio format no longer tell devices apart.
_FIT_720P = (
    "scale=w='if(gte(dar,16/9),1280,trunc(720*dar/2)*2)':h='if(gte(dar,16/9),trunc(1280/dar/2)*2,720)'"
    ":out_color_matrix=bt709:out_range=tv,setsar=1,pad=1280:720:(ow-iw)/2:(oh-ih)/2,fps=25,format=yuv420p"
)
_NORMAL_VIDEO = [
    "-vf",
    _FIT_720P,
    *_X264,
    "-profile:v",
    "high",
    "-level:v",
    "3.1",
    "-colorspace",
    "bt709",
    "-color_primaries",
    "bt709",
    "-color_trc",
    "bt709",
    "-color_range",
    "tv",
    *_H264_UNITS,
]
_NORMAL_AUDIO = ["-c:a", "aac", "-b:a", "96k", "-ar", "48000", "-ac", "1"]
_SILENCE = ["-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono"]


class MediaError(ValueError):
    """A file that cannot serve as this recording; the message says why (never the path)."""


@dataclass(frozen=True)
class Probe:
    video_codec: str | None
    audio_codec: str | None
    duration: float | None
    metadata: dict
    """Everything ffprobe reports of the original's container and streams: the PI's record."""


@dataclass(frozen=True)
class StoredMedia:
    name: str
    media_type: str
    transcoded: bool


def media_dir(explicit: Path | None = None) -> Path:
    return explicit or Path(os.environ.get("OBSCODE_MEDIA_DIR", DEFAULT_MEDIA_DIR))


def require_ffmpeg() -> None:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        raise MediaError(
            f"{' and '.join(missing)} not found: obscode needs Debian's ffmpeg to strip identifying "
            "metadata from recordings (`make run` and `make test` install it)"
        )


def content_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def read_sums(path: Path) -> dict[str, str]:
    """A file of hashes in ``sha256sum`` format, as name -> hash."""
    lines = (line.split("  ", 1) for line in path.read_text(encoding="ascii").splitlines() if line)
    return {name: digest for digest, name in lines}


def write_sums(path: Path, hashes: dict[str, str]) -> None:
    """Hashes by name written in ``sha256sum`` format (``sha256sum -c`` checks them), sorted by name."""
    path.write_text("".join(f"{hashes[name]}  {name}\n" for name in sorted(hashes)), encoding="ascii")


def probe(path: Path) -> Probe:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MediaError("not a media file ffmpeg can read")
    info = json.loads(result.stdout or "{}")
    streams = info.get("streams", [])

    def codec(kind: str) -> str | None:
        return next((s.get("codec_name") for s in streams if s.get("codec_type") == kind), None)

    # Cover art in an audio file shows up as a one-frame video stream; it is not a video.
    video = next(
        (
            s.get("codec_name")
            for s in streams
            if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")
        ),
        None,
    )
    duration = info.get("format", {}).get("duration")
    return Probe(video, codec("audio"), float(duration) if duration else None, info)


@dataclass(frozen=True)
class Plan:
    """How ffmpeg makes the stored copy: inputs after the original, output arguments, and what comes out."""

    inputs: list[str]
    arguments: list[str]
    extension: str
    media_type: str
    transcoded: bool
    """The video (or, for audio, the sound) is re-encoded rather than copied."""


def plan(kind: str, found: Probe, normalise: bool) -> Plan:
    """The conversion of one original; ``normalise`` re-encodes everything to the study's one profile."""
    if kind == "video":
        if found.video_codec is None:
            raise MediaError("has no video stream")
        # V, not v: a cover picture is not the video.
        streams = ["-map", "0:V:0", "-map", "0:a:0?"]
        if normalise:
            inputs = []
            if found.audio_codec is None:  # a silent track, so that having none tells nothing either
                inputs, streams = _SILENCE, ["-map", "0:V:0", "-map", "1:a:0", "-shortest"]
            return Plan(inputs, [*streams, *_NORMAL_VIDEO, *_NORMAL_AUDIO], "mp4", "video/mp4", True)
        extension, media_type = _BROWSER_VIDEO.get(found.video_codec, ("mp4", "video/mp4"))
        copy = found.video_codec in _BROWSER_VIDEO
        video = ["-c:v", "copy"] if copy else _X264
        units = _H264_UNITS if found.video_codec == "h264" or not copy else []
        return Plan([], [*streams, *video, *units, *_AUDIO_FOR[extension]], extension, media_type, not copy)
    if found.audio_codec is None:
        raise MediaError("has no audio stream")
    return Plan([], ["-map", "0:a:0", *(_NORMAL_AUDIO if normalise else _AUDIO_FOR["mp4"])], "m4a", "audio/mp4", True)


class MediaStore:
    """A folder of blinded media files named by random tokens."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    @contextmanager
    def importing(self) -> Iterator[None]:
        """Held by an import from its first new file until the database names its files or they are removed.

        A shared lock: imports in several processes may run at once, while :meth:`remove_orphans`
        (which takes it exclusively) waits for none of them and touches nothing while one runs.
        The kernel drops a killed process's lock with its open files, so a SIGKILL leaves no stale lock.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_SH)
            yield

    def add(self, source: Path, kind: str, found: Probe, normalise: bool) -> StoredMedia:
        """Write a stripped (and if need be transcoded) copy of ``source`` under a new opaque name.

        Called inside :meth:`importing`, which also makes the folder."""
        how = plan(kind, found, normalise)
        name = f"{secrets.token_hex(16)}.{how.extension}"
        partial = self.root / f".{name}.partial"
        faststart = ["-movflags", "+faststart"] if how.extension in ("mp4", "m4a") else []
        command = [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(source),
            *how.inputs,
            *how.arguments,
            # Drop every tag, chapter and encoder string; bitexact stops the muxer writing its own dates.
            "-map_metadata",
            "-1",
            "-map_chapters",
            "-1",
            "-fflags",
            "+bitexact",
            "-flags:v",
            "+bitexact",
            "-flags:a",
            "+bitexact",
            *faststart,
            "-f",
            "webm" if how.extension == "webm" else "mp4",
            str(partial),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise MediaError("ffmpeg could not convert it to a format browsers play")
        # A constant mtime: Last-Modified and ETag must not reveal when (in visit order) it was imported.
        os.utime(partial, (0, 0))
        partial.rename(self.root / name)
        return StoredMedia(name, how.media_type, how.transcoded)

    def remove(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)

    def delete(self, names: list[str]) -> None:
        """Delete these files for good (a participant's consent withdrawn): gone from the folder, and the
        folder's entry written to disk, before this returns."""
        for name in names:
            self.remove(name)
        if names and self.root.is_dir():
            folder = os.open(self.root, os.O_RDONLY)
            try:
                os.fsync(folder)
            finally:
                os.close(folder)

    def hashes(self) -> dict[str, str]:
        """The recorded hash of every file hashed so far, by name."""
        path = self.root / HASHES
        return read_sums(path) if path.exists() else {}

    def record_hashes(self, hashes: dict[str, str]) -> None:
        """Add these to the recorded hashes; a hash already recorded is kept (it is what the file should be)."""
        recorded = self.hashes()
        if hashes.keys() <= recorded.keys():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        partial = (
            self.root / f"{HASHES}.{secrets.token_hex(8)}.partial"
        )  # two backups at once: the last rename wins, whole
        write_sums(partial, hashes | recorded)
        partial.rename(self.root / HASHES)

    def remove_orphans(self, store: Store) -> int:
        """Remove the files a killed import left behind (copies no recording names, and ``.partial`` files).

        Returns how many. Skipped (0) while an import in any process holds :meth:`importing`:
        its finished copies have no row until its last file is converted, which can take hours, so no
        age would tell them from orphans; the lock does, and dies with a killed importer. Only names the
        store itself makes are touched, so a media folder set by mistake to a folder of other files loses none.
        """
        if not self.root.is_dir():
            return 0
        with (self.root / LOCK).open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return 0
            with store.read() as db:
                named = set(db.scalars(select(Recording.media_name)))
            orphans = [p for p in self.root.iterdir() if _OWN_NAME.fullmatch(p.name) and p.name not in named]
            for path in orphans:
                path.unlink(missing_ok=True)
            return len(orphans)
