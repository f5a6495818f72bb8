"""The player's facts of a recording (frame rate, sound envelope), measured with ffmpeg and kept
once per recording behind the coders' door."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from coding_app import blinded, playback
from coding_app.assignments import assign
from coding_app.errors import NotFound
from coding_app.imports.manifest import import_manifest
from coding_app.store.models import PlaybackFacts, Recording
from tests.coding_app.helpers import add_account, add_recordings


def _make(path: Path, *sources: str) -> Path:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            *sources,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(path),
        ],
        check=True,
    )
    return path


def _video(path: Path, rate: str, seconds: int = 2) -> Path:
    return _make(
        path,
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=64x48:rate={rate}:duration={seconds}",
        "-f",
        "lavfi",
        "-i",
        f"sine=frequency=440:duration={seconds}",
    )


@pytest.mark.parametrize(
    ("rate", "expected"), [("10", 10.0), ("15", 15.0), ("25", 25.0), ("30", 30.0), ("30000/1001", 30000 / 1001)]
)
def test_the_frame_rate_is_the_files_own(tmp_path, rate, expected):
    assert playback.frame_rate(_video(tmp_path / "clip.mp4", rate)) == pytest.approx(expected)


def test_audio_has_no_frame_rate_and_an_envelope_of_ten_peaks_a_second_that_follows_the_loudness(tmp_path):
    """Two seconds near silence, then two loud ones."""
    path = tmp_path / "session.m4a"
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
            "sine=frequency=300:duration=4,volume='if(lt(t,2),0.02,7)':eval=frame",
            "-c:a",
            "aac",
            str(path),
        ],
        check=True,
    )
    facts = playback.measure(path)
    assert facts.frame_rate is None and facts.peaks_per_second == playback.PEAKS_PER_SECOND == 10
    assert 40 <= len(facts.peaks) <= 42  # 4 s, and the encoder's last part-block
    quiet, loud = facts.peaks[2:18], facts.peaks[22:38]
    assert max(quiet) < 10 and min(loud) > 200, (list(quiet), list(loud))


def test_an_hour_of_sound_is_a_few_tens_of_kilobytes(tmp_path):
    path = tmp_path / "long.m4a"
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
            "anoisesrc=d=3600:a=0.3",
            "-ac",
            "1",
            "-ar",
            "8000",
            "-c:a",
            "aac",
            "-b:a",
            "16k",
            str(path),
        ],
        check=True,
    )
    assert 36_000 <= len(playback.envelope(path)) <= 36_010


def test_the_door_measures_a_recording_once_keeps_it_and_refuses_one_not_assigned(study, tmp_path):
    codes = add_recordings(
        study.store, [dict(recording_id=f"V{n}", participant_id=f"P{n}", kind="video") for n in (1, 2)]
    )
    rater, other = add_account(study.store, "rater.one", "coder"), add_account(study.store, "rater.two", "coder")
    assign(study.store, ["rater.one"], kind="video", seed=1, actor="test")
    with study.store.read() as db:
        name = db.scalar(select(Recording.media_name).where(Recording.code == codes["V1"]))
    study.media.root.mkdir(parents=True, exist_ok=True)
    _video(study.media.path(name), "15")

    facts = blinded.playback_facts(study.store, rater, codes["V1"], study.media)
    assert facts.frame_rate == 15.0 and len(facts.peaks) >= 20
    study.media.path(name).unlink()  # kept: not measured again
    assert blinded.playback_facts(study.store, rater, codes["V1"], study.media) == facts
    with study.store.read() as db:
        assert db.scalar(select(PlaybackFacts.frame_rate)) == 15.0
    with pytest.raises(NotFound):
        blinded.playback_facts(study.store, other, codes["V1"], study.media)


def test_facts_another_window_kept_first_stand(study, tmp_path):
    codes = add_recordings(study.store, [dict(recording_id="V1", participant_id="P1", kind="video")])
    first, second = playback.Facts(15.0, 10, b"\x01\x02"), playback.Facts(15.0, 10, b"\x01\x02\x03")
    with study.store.read() as db:
        recording_id = db.scalar(select(Recording.id).where(Recording.code == codes["V1"]))
    for facts in (first, second):
        with study.store.write() as db:
            playback.keep(db, recording_id, facts)
    with study.store.read() as db:
        assert db.get(PlaybackFacts, recording_id).peaks == first.peaks


def test_the_envelope_of_a_file_without_sound_is_empty(tmp_path):
    path = tmp_path / "silent.mp4"
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
            "testsrc2=size=64x48:rate=10:duration=1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ],
        check=True,
    )
    assert playback.measure(path) == playback.Facts(10.0, 10, b"")


def test_a_file_ffmpeg_cannot_read_is_a_media_error(tmp_path):
    path = tmp_path / "notes.mp4"
    path.write_text("not a video")
    with pytest.raises(playback.MediaError):
        playback.measure(path)


def test_an_import_measures_each_stored_copy(study, clips, write_manifest):
    rows = [
        dict(
            recording_id="V1",
            participant_id="P1",
            site="North",
            kind="video",
            timepoint="baseline",
            path=str(clips.mp4),
        ),
        dict(
            recording_id="A1",
            participant_id="P1",
            site="North",
            kind="audio",
            timepoint="baseline",
            path=str(clips.m4a),
        ),
    ]
    import_manifest(study.store, study.media, write_manifest(rows), "importer")
    with study.store.read() as db:
        kept = {r.kind: (r.media_name, db.get(PlaybackFacts, r.id)) for r in db.scalars(select(Recording))}
    for kind, (name, facts) in kept.items():
        stored = playback.measure(study.media.path(name))
        assert (facts.frame_rate, facts.peaks_per_second, facts.peaks) == (stored.frame_rate, 10, stored.peaks), kind
        assert len(facts.peaks) >= 10, kind  # the clips have a second of sound
    assert kept["video"][1].frame_rate in (10.0, 25.0) and kept["audio"][1].frame_rate is None  # 25: normalised


def test_a_variable_rate_file_steps_at_its_base_rate(tmp_path):
    """15 frames of 2/15 s then frames of 1/30 s: steps of 1/30 s (the average, about 19 a second, would jump
    frames)."""
    path = _make(
        tmp_path / "vfr.mp4",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=64x48:rate=30:duration=3",
        "-vf",
        "setpts='if(lt(N,15),N*4,60+(N-15))/(30*TB)'",
        "-fps_mode",
        "vfr",
    )
    assert playback.frame_rate(path) == 30.0
