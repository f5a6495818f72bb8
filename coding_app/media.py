"""The blinded media store: recordings copied in under opaque names, stripped and playable.

On import every file is rewritten by ffmpeg: container and stream metadata (creation dates
that reveal the visit, device, location, titles) are dropped, and a file a browser cannot play
(.MTS, .MOV with odd codecs, ...) is transcoded to MP4/H.264 + AAC (video) or M4A/AAC (audio).
Streams a browser already plays are copied, not re-encoded. The original's metadata is kept
for the PI in the unblinding key.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MEDIA_DIR = Path("var/media")
_CHUNK = 1 << 20

# (container format name as ffprobe reports it, allowed codecs) -> (extension, MIME type)
_BROWSER_VIDEO = {"h264": ("mp4", "video/mp4"), "vp9": ("webm", "video/webm"), "vp8": ("webm", "video/webm")}
_BROWSER_VIDEO_AUDIO = {"mp4": {"aac", "mp3"}, "webm": {"opus", "vorbis"}}
_BROWSER_AUDIO = {
    "aac": ("m4a", "audio/mp4"),
    "mp3": ("mp3", "audio/mpeg"),
    "pcm_s16le": ("wav", "audio/wav"),
    "opus": ("ogg", "audio/ogg"),
    "vorbis": ("ogg", "audio/ogg"),
}


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


def probe(path: Path) -> Probe:
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        raise MediaError("not a media file ffmpeg can read")
    info = json.loads(result.stdout or "{}")
    streams = info.get("streams", [])

    def codec(kind: str) -> str | None:
        return next((s.get("codec_name") for s in streams if s.get("codec_type") == kind), None)

    # Cover art in an audio file shows up as a one-frame video stream; it is not a video.
    video = next(
        (s.get("codec_name") for s in streams
         if s.get("codec_type") == "video" and not s.get("disposition", {}).get("attached_pic")),
        None,
    )  # fmt: skip
    duration = info.get("format", {}).get("duration")
    return Probe(video, codec("audio"), float(duration) if duration else None, info)


def plan(kind: str, found: Probe) -> tuple[list[str], str, str, bool]:
    """ffmpeg codec arguments, extension, MIME type, and whether it is a transcode."""
    if kind == "video":
        if found.video_codec is None:
            raise MediaError("has no video stream")
        target = _BROWSER_VIDEO.get(found.video_codec)
        if target and (found.audio_codec is None or found.audio_codec in _BROWSER_VIDEO_AUDIO[target[0]]):
            return ["-map", "0:v:0", "-map", "0:a:0?", "-c", "copy"], *target, False
        encode = ["-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                  "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k"]  # fmt: skip
        return encode, "mp4", "video/mp4", True
    if found.audio_codec is None:
        raise MediaError("has no audio stream")
    target = _BROWSER_AUDIO.get(found.audio_codec)
    if target:
        return ["-map", "0:a:0", "-c", "copy"], *target, False
    return ["-map", "0:a:0", "-c:a", "aac", "-b:a", "128k"], "m4a", "audio/mp4", True


class MediaStore:
    """A folder of blinded media files named by random tokens."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, name: str) -> Path:
        return self.root / name

    def add(self, source: Path, kind: str, found: Probe) -> StoredMedia:
        """Write a stripped (and if need be transcoded) copy of ``source`` under a new opaque name."""
        codecs, extension, media_type, transcoded = plan(kind, found)
        self.root.mkdir(parents=True, exist_ok=True)
        name = f"{secrets.token_hex(16)}.{extension}"
        partial = self.root / f".{name}.partial"
        faststart = ["-movflags", "+faststart"] if extension in ("mp4", "m4a") else []
        format_name = {"m4a": "mp4", "mp3": "mp3", "wav": "wav", "ogg": "ogg", "webm": "webm", "mp4": "mp4"}[extension]
        command = [
            "ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source), *codecs,
            # Drop every tag, chapter and encoder string; bitexact stops the muxer writing its own dates.
            "-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact",
            "-flags:v", "+bitexact", "-flags:a", "+bitexact", *faststart, "-f", format_name, str(partial),
        ]  # fmt: skip
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise MediaError("ffmpeg could not convert it to a format browsers play")
        # A constant mtime: Last-Modified and ETag must not reveal when (in visit order) it was imported.
        os.utime(partial, (0, 0))
        partial.rename(self.root / name)
        return StoredMedia(name, media_type, transcoded)

    def remove(self, name: str) -> None:
        (self.root / name).unlink(missing_ok=True)
