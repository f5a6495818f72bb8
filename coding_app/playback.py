"""What the player needs of a recording's stored media, measured once with ffmpeg: its frame rate
(so that frame steps are the file's own) and an envelope of its sound (so that the coder sees the
whole session's waveform without the browser decoding a 90-minute file).

The envelope is the loudest sample of each 1/PEAKS_PER_SECOND s, one byte each: 36 kB an hour,
read from ffmpeg's output a block at a time, so memory stays flat however long the file.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from .media import MediaError
from .store.models import PlaybackFacts

PEAKS_PER_SECOND = 10
_SAMPLE_RATE = 8000  # enough to find a peak's height; decoding costs the same at any rate
_BLOCK = _SAMPLE_RATE // PEAKS_PER_SECOND


@dataclass(frozen=True)
class Facts:
    frame_rate: float | None
    """Frames per second (the average, for a variable-rate file); None without a picture."""
    peaks_per_second: int
    peaks: bytes


def _streams(path: Path) -> list[dict]:
    result = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "stream=codec_type,avg_frame_rate,r_frame_rate:stream_disposition=attached_pic",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MediaError("not a media file ffmpeg can read")
    return json.loads(result.stdout or "{}").get("streams", [])


def frame_rate(path: Path, streams: list[dict] | None = None) -> float | None:
    """The first video stream's frame rate, for frame steps.

    For a variable-rate file, its base rate (ffprobe's r_frame_rate: the rate of its shortest
    frames), so that a step of one nominal frame never jumps a real one; unless that is more than
    twice the average (a container's time base rather than a frame rate), then the average.
    """
    for stream in streams if streams is not None else _streams(path):
        if stream.get("codec_type") != "video" or stream.get("disposition", {}).get("attached_pic"):
            continue  # cover art in an audio file is a one-frame "video"
        base, average = (_rate(stream.get(field)) for field in ("r_frame_rate", "avg_frame_rate"))
        if base and (not average or base <= 2 * average):
            return base
        return average
    return None


def _rate(text: str | None) -> float | None:
    """ffprobe's "num/den" as a number; None for its "0/0" (unknown)."""
    num, _, den = (text or "0/0").partition("/")
    return float(Fraction(int(num), int(den))) if num not in ("", "0") and den not in ("", "0") else None


def envelope(path: Path) -> bytes:
    """The (first) sound's loudest sample per 1/PEAKS_PER_SECOND s, scaled to 0-255."""
    command = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-i",
        str(path),
        "-map",
        "0:a:0",
        "-ac",
        "1",
        "-ar",
        str(_SAMPLE_RATE),
        "-f",
        "s16le",
        "-",
    ]
    peaks = bytearray()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as ffmpeg:
        assert ffmpeg.stdout is not None  # stdout=PIPE
        while chunk := ffmpeg.stdout.read(_BLOCK * 2 * 600):  # a minute of sound at a time
            samples = np.abs(np.frombuffer(chunk[: len(chunk) // 2 * 2], dtype="<i2").astype(np.int32))
            blocks = -(-len(samples) // _BLOCK)
            padded = np.zeros(blocks * _BLOCK, dtype=np.int32)
            padded[: len(samples)] = samples
            peaks += np.ceil(padded.reshape(blocks, _BLOCK).max(axis=1) * 255 / 32768).astype(np.uint8).tobytes()
    if ffmpeg.returncode != 0:
        raise MediaError("ffmpeg could not read the sound of a stored media file")
    return bytes(peaks)


def measure(path: Path) -> Facts:
    streams = _streams(path)
    sound = any(stream.get("codec_type") == "audio" for stream in streams)
    return Facts(frame_rate(path, streams), PEAKS_PER_SECOND, envelope(path) if sound else b"")


def keep(db: Session, recording_id: int, facts: Facts) -> None:
    """Store a recording's facts once; facts another window stored first stand (they are the same)."""
    if db.get(PlaybackFacts, recording_id) is not None:
        return
    try:
        with db.begin_nested():
            db.add(
                PlaybackFacts(
                    recording_id=recording_id,
                    frame_rate=facts.frame_rate,
                    peaks_per_second=facts.peaks_per_second,
                    peaks=facts.peaks,
                )
            )
    except IntegrityError:
        pass
