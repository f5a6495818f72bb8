"""Importing recordings: opaque codes, stripped and playable media, all or nothing, idempotent."""

from __future__ import annotations

import hashlib
import itertools
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from coding_app.codebook import DEFAULT_CODEBOOK, CodebookError, load_codebook
from coding_app.errors import ImportRefused
from coding_app.imports.identifiers import CODE_ALPHABET, CODE_LENGTH
from coding_app.imports.manifest import MANIFEST_COLUMNS, import_manifest
from coding_app.media import LOCK, MediaStore, probe
from coding_app.store.models import StudySetting
from coding_app.study import study_codebook
from coding_app.study_setup import initialise
from tests.coding_app.conftest import LEAKY_DATE, LEAKY_PARTICIPANT, LEAKY_PLACE
from tests.coding_app.helpers import (
    all_tags,
    audit_rows,
    ffprobe,
    keys_by_external_id,
    manifest_rows,
    media_listing,
    row_counts,
    write_csv,
)

# Tags that would tell a coder when, where or of whom a recording was made.
IDENTIFYING_TAGS = {
    "creation_time",
    "date",
    "title",
    "comment",
    "location",
    "location-eng",
    "make",
    "model",
    "service_name",
    "service_provider",
    "encoded_by",
    "artist",
    "description",
}
OPAQUE_NAME = re.compile(r"^[0-9a-f]{32}\.(mp4|m4a)$")


def video(recording_id: str, path: Path | str, **fields: str) -> dict[str, str]:
    row = dict(recording_id=recording_id, participant_id="P01", site="North", timepoint="baseline", kind="video")
    return row | {"path": str(path)} | fields


def audio(recording_id: str, path: Path | str, **fields: str) -> dict[str, str]:
    row = dict(
        recording_id=recording_id,
        participant_id="P01",
        site="North",
        kind="audio",
        session="1",
        clinician="clinician A",
    )
    return row | {"path": str(path)} | fields


def leaky_rows(clips) -> list[dict[str, str]]:
    """One row per sort of clip; an extra 'camera' column, as trial teams keep."""
    return [
        video("V1", clips.mp4, timepoint="baseline", camera="Kestrel HV-320"),
        video("V2", clips.mov, timepoint="month 5", camera="Pellam iCam 5"),
        video("V3", clips.mts, timepoint="month 8", camera="Orrin AVC-90"),
        audio("A1", clips.m4a, session="3", camera="Pellam iCam 7"),
        audio("A2", clips.wav, session="4", camera="Tascor DR-5"),
    ]


def media_setting(study, normalise: bool) -> None:
    """Re-initialise the study with a codebook that says whether to normalise media."""
    initialise(study.store, replace(load_codebook(), normalise_media=normalise), "test")


@pytest.mark.parametrize("normalise", [False, True], ids=["copy", "normalise"])
def test_import_gives_opaque_codes_and_stripped_playable_media_and_keeps_the_key_for_the_pi(
    study, clips, write_manifest, normalise
):
    """Codes random from CODE_ALPHABET; media opaque, stripped, browser-playable; the key keeps path, hash,
    metadata, extras."""
    media_setting(study, normalise)
    rows = leaky_rows(clips)
    summary = import_manifest(study.store, study.media, write_manifest(rows, extra=("camera",)), "importer")
    assert (summary.added, summary.unchanged, summary.participants_added) == (5, 0, 1)

    found = keys_by_external_id(study.store)
    codes = [found[row["recording_id"]][0].code for row in rows]
    assert codes == summary.codes
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    # Sequential or counter-derived codes share long prefixes; random ones almost never share 4 chars.
    for a, b in itertools.combinations(codes, 2):
        assert a[:4] != b[:4], (a, b)

    for row in rows:
        recording, key, participant = found[row["recording_id"]]
        source = Path(row["path"])
        assert recording.kind == row["kind"]
        assert participant.external_id == "P01" and participant.site == "North"
        assert key.original_path == str(source.resolve())
        assert key.content_hash == hashlib.sha256(source.read_bytes()).hexdigest()
        assert key.extra == {"camera": row["camera"]}
        assert key.file_metadata["format"]["filename"] == str(source)  # ffprobe's full report
    # The PI's record keeps what the originals gave away.
    assert found["V1"][1].file_metadata["format"]["tags"]["title"] == f"{LEAKY_PARTICIPANT} baseline play"
    assert found["A1"][1].file_metadata["format"]["tags"]["title"] == f"Session 3 with {LEAKY_PARTICIPANT}"
    assert [a.action for a in audit_rows(study.store, "recording.import")] == ["recording.import"] * 5

    # The media: opaque names, no identifying tags or bytes, MTS and MJPEG MOV made H.264 MP4, sound re-encoded.
    assert summary.transcoded == (5 if normalise else 4)  # unless normalising, the H.264 MP4's video is copied
    stored = {row["recording_id"]: found[row["recording_id"]][0] for row in rows}
    names = sorted(r.media_name for r in stored.values())
    assert [name for name, _ in media_listing(study.media.root)] == sorted([*names, LOCK])  # nothing else, no partials
    originals = [Path(row["path"]) for row in rows]
    for name in names:
        assert OPAQUE_NAME.match(name), name
        for original in originals:
            assert original.stem.lower() not in name.lower()

    leaks = [LEAKY_PARTICIPANT.encode(), LEAKY_DATE.encode(), LEAKY_PLACE.encode(), b"Pellam", b"Orrin", b"North site"]
    for recording in stored.values():
        path = study.media.path(recording.media_name)
        info = ffprobe(path)
        for tags in all_tags(info):
            assert not IDENTIFYING_TAGS & set(tags), (recording.media_name, tags)
        content = path.read_bytes()
        for leak in leaks:
            assert leak not in content, (recording.media_name, leak)

    for recording_id in ("V1", "V2", "V3"):
        recording = stored[recording_id]
        info = ffprobe(study.media.path(recording.media_name))
        codecs = {s["codec_type"]: s["codec_name"] for s in info["streams"]}
        assert codecs == {"video": "h264", "audio": "aac"}, recording_id
        assert "mp4" in info["format"]["format_name"].split(",")
        assert recording.media_type == "video/mp4" and recording.media_name.endswith(".mp4")
    for recording_id in ("A1", "A2"):  # AAC and PCM alike: audio frames can carry text, so sound is re-encoded
        recording = stored[recording_id]
        assert (recording.media_type, ffprobe(study.media.path(recording.media_name))["streams"][0]["codec_name"]) == (
            "audio/mp4",
            "aac",
        )
        assert recording.media_name.endswith(".m4a")


def test_reimporting_the_same_manifest_changes_nothing(study, clips, write_manifest):
    """Same codes, no new audit rows, no new media files, nothing counted as added."""
    rows = [row for row in leaky_rows(clips) if row["recording_id"] in ("V1", "A1", "A2")]  # the quickest to convert
    manifest = write_manifest(rows, extra=("camera",))
    first = import_manifest(study.store, study.media, manifest, "importer")
    counts, files = row_counts(study.store), media_listing(study.media.root)
    codes = {k: r.code for k, (r, _, _) in keys_by_external_id(study.store).items()}

    again = import_manifest(study.store, study.media, manifest, "importer")

    assert (again.added, again.unchanged, again.transcoded, again.codes) == (0, 3, 0, [])
    assert first.added == 3
    assert row_counts(study.store) == counts
    assert media_listing(study.media.root) == files
    assert {k: r.code for k, (r, _, _) in keys_by_external_id(study.store).items()} == codes


# ---------------------------------------------------------------------------- all or nothing


def _copy(source: Path, directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copyfile(source, directory / name))


def _bad_rows(case: str, study, clips):
    """(rows, columns, expected row or None, expected field text) of a manifest refused on its own."""
    here = study.root / "incoming"
    good = video("V1", clips.mp4_other)
    if case == "missing column":
        return [good], [c for c in MANIFEST_COLUMNS if c != "clinician"], None, "clinician"
    bad = {
        "blank required field": lambda: (video("V2", clips.mp4, participant_id=""), "'participant_id'"),
        "unknown kind": lambda: (video("V2", clips.mp4, kind="film"), "'kind'"),
        "duplicate recording_id": lambda: (video("V1", clips.mp4), "'recording_id'"),
        "ids differing only in case or spaces": lambda: (video(" v 1", clips.mp4), "'recording_id'"),
        "same file twice by content": lambda: (video("V2", _copy(clips.mp4_other, here, "again.mp4")), "'path'"),
        "missing file": lambda: (video("V2", here / "gone missing.mp4"), "'path'"),
        "zero-byte file": lambda: (video("V2", clips.empty), "'path'"),
        "non-media file": lambda: (video("V2", clips.text_as_mp4), "'path'"),
        "video without a video stream": lambda: (video("V2", clips.wav), "'path'"),
        "arm not declared": lambda: (video("V2", clips.mp4, participant_id="P02", arm="VIPP"), "'arm'"),
        "timepoint not declared": lambda: (video("V2", clips.mp4, timepoint="month 6"), "'timepoint'"),
        "video without a timepoint": lambda: (video("V2", clips.mp4, timepoint=""), "'timepoint'"),
        "conflicting arm for one participant": lambda: (video("V2", clips.mp4, arm="usual care"), "arm"),
        "conflicting site for one participant": lambda: (video("V2", clips.mp4, site="South"), "site"),
    }
    row, field = bad[case]()
    if case == "conflicting arm for one participant":
        good = good | {"arm": "VIPP-PMH"}
    return [good, row, video("V3", clips.mov, participant_id="P03")], MANIFEST_COLUMNS, 3, field


ON_THEIR_OWN = [
    "missing column",
    "blank required field",
    "unknown kind",
    "duplicate recording_id",
    "ids differing only in case or spaces",
    "same file twice by content",
    "missing file",
    "zero-byte file",
    "non-media file",
    "video without a video stream",
    "arm not declared",
    "timepoint not declared",
    "video without a timepoint",
    "conflicting arm for one participant",
    "conflicting site for one participant",
]


def _refused_cleanly(study, rows, columns, row, field) -> None:
    """Import refused: the right row and field named, no file path or name, tables and media unchanged."""
    manifest = write_csv(
        study.root / "manifest.csv", [{c: r.get(c, "") for c in columns} for r in manifest_rows(rows)], columns
    )
    counts, files = row_counts(study.store), media_listing(study.media.root)

    with pytest.raises(ImportRefused) as refused:
        import_manifest(study.store, study.media, manifest, "importer")

    assert row_counts(study.store) == counts
    assert media_listing(study.media.root) == files
    problems = refused.value.problems
    if row is None:
        assert any(field in p for p in problems), problems
    else:
        at_row = [p for p in problems if p.startswith(f"row {row}: ")]
        assert any(field in p for p in at_row), problems
        assert not [p for p in problems if not p.startswith(f"row {row}: ")], problems  # the good rows are not blamed
    message = str(refused.value)
    for path in (Path(r["path"]) for r in rows if r.get("path")):
        for text in {str(path), str(path.parent), path.name, path.stem}:
            assert text not in message, (text, message)


def test_a_bad_manifest_imports_nothing_and_names_row_and_field_but_never_the_file(study, clips, subtests):
    """Each bad manifest: ImportRefused names the spreadsheet row and field; tables and media folder unchanged."""
    study.declare_arms()
    import_manifest(
        study.store,
        study.media,
        write_csv(
            study.root / "before.csv",
            manifest_rows([video("OLD1", clips.m4a, participant_id="P09", kind="audio", session="1")]),
            MANIFEST_COLUMNS,
        ),
        "importer",
    )
    for case in ON_THEIR_OWN:  # each refusal leaves the study as it was, so the next case starts from the same state
        with subtests.test(case):
            _refused_cleanly(study, *_bad_rows(case, study, clips))


@pytest.mark.parametrize(
    "case",
    [
        "file already imported under another id",
        "participant already in the study with another site",
        "changed re-import",
    ],
)
def test_a_manifest_clashing_with_earlier_imports_imports_nothing(study, clips, case):
    """Against what is already imported: the clashing row and field are named, nothing changes."""
    here = study.root / "incoming"
    if case == "file already imported under another id":
        before = [video("OLD1", clips.mp4_other, participant_id="P09")]
        rows, row, field = [video("V1", _copy(clips.mp4_other, here, "renamed.mp4"))], 2, "'path'"
    elif case == "participant already in the study with another site":
        before = [video("OLD1", clips.mp4_other, participant_id="P01", site="North")]
        rows, row, field = [video("V2", clips.mp4, participant_id="P01", site="South")], 2, "site"
    else:
        before = [video("V1", clips.mp4_other), video("V2", clips.mp4, timepoint="month 5")]
        rows, row, field = [before[0], video("V2", clips.mp4, timepoint="month 8")], 3, "'timepoint'"
    import_manifest(
        study.store,
        study.media,
        write_csv(study.root / "before.csv", manifest_rows(before), MANIFEST_COLUMNS),
        "importer",
    )
    _refused_cleanly(study, rows, MANIFEST_COLUMNS, row, field)


# --------------------------------------------------------------------- spreadsheets as they are


def test_a_manifest_saved_by_excel_with_bom_crlf_and_stray_spaces_imports(study, clips):
    """A UTF-8 BOM, CRLF line ends, capitalised padded headers and padded values are all accepted."""
    header = " Recording_ID , Participant_ID ,Site,ARM, Timepoint ,Kind,Session,Clinician, Path "
    lines = [
        header,
        f" V1 , P01 , North ,, baseline , Video ,,, {clips.mp4} ",
        f"A1,P01,North,,,audio, 2 , clinician A ,{clips.wav}",
    ]
    manifest = study.root / "excel.csv"
    manifest.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))

    summary = import_manifest(study.store, study.media, manifest, "importer")

    assert summary.added == 2
    found = keys_by_external_id(study.store)
    recording, key, participant = found["V1"]
    assert (recording.kind, key.timepoint, participant.external_id, participant.site) == (
        "video",
        "baseline",
        "P01",
        "North",
    )
    assert (found["A1"][1].session, found["A1"][1].clinician) == ("2", "clinician A")
    assert found["V1"][1].original_path == str(clips.mp4.resolve())


def test_an_xlsx_manifest_imports_with_blank_cells_as_blanks(study, clips):
    """An Excel workbook works like a CSV; empty cells are blanks, numbers are read as text."""
    manifest = study.root / "manifest.xlsx"
    pd.DataFrame(manifest_rows([video("V1", clips.mp4), audio("A1", clips.wav, session=2)])).to_excel(
        manifest, index=False
    )

    summary = import_manifest(study.store, study.media, manifest, "importer")

    assert summary.added == 2
    found = keys_by_external_id(study.store)
    assert (found["V1"][1].session, found["V1"][1].clinician, found["V1"][2].arm) == (None, None, None)
    assert found["A1"][1].session == "2"


def test_unicode_and_spaces_in_media_paths(study, clips, write_manifest):
    """Relative and absolute paths with accents, apostrophes and spaces are found and recorded exactly."""
    folder = study.root / "Vidéos d'été"
    relative = _copy(clips.mp4, folder, "mère et bébé 01.mp4")
    absolute = clips.wav_variant(study.root / "Séances audio", 1, "séance n° 1.wav")
    manifest = write_manifest([video("V1", "Vidéos d'été/mère et bébé 01.mp4"), audio("A1", absolute)])

    assert import_manifest(study.store, study.media, manifest, "importer").added == 2

    found = keys_by_external_id(study.store)
    assert found["V1"][1].original_path == str(relative.resolve())
    assert found["A1"][1].original_path == str(absolute.resolve())
    for recording, _, _ in found.values():
        assert OPAQUE_NAME.match(recording.media_name)
        assert study.media.path(recording.media_name).stat().st_size > 0


# ------------------------------------------------------------------------------- media store


def test_an_import_first_removes_what_a_killed_import_left_but_never_a_running_imports_files(
    study, clips, write_manifest
):
    """Copies no recording names and .partial files go at the next import; named copies and files the store did
    not make stay; while another import holds the store, nothing is removed; the database is not touched."""
    import_manifest(study.store, study.media, write_manifest([video("V1", clips.mp4)], "first.csv"), "importer")
    [kept] = [r.media_name for r, _, _ in keys_by_external_id(study.store).values()]
    root = study.media.root
    orphans = [root / "0123456789abcdef0123456789abcdef.mp4", root / ".fedcba9876543210fedcba9876543210.m4a.partial"]
    foreign = root / "notes.txt"
    for path in [*orphans, foreign]:
        path.write_bytes(b"left behind")
    counts = row_counts(study.store)

    with study.media.importing():  # an import running in another process (flock: another open file is another owner)
        assert study.media.remove_orphans(study.store) == 0
    assert all(path.exists() for path in orphans)

    import_manifest(study.store, study.media, write_manifest([audio("A1", clips.wav)], "second.csv"), "importer")

    assert not any(path.exists() for path in orphans)
    assert foreign.exists() and study.media.path(kept).exists()
    assert row_counts(study.store)["recording"] == counts["recording"] + 1
    names = sorted(r.media_name for r, _, _ in keys_by_external_id(study.store).values())
    assert [name for name, _ in media_listing(root)] == sorted([*names, LOCK, foreign.name])


def stream_facts(path: Path) -> dict[str, tuple]:
    """What could tell one device's recordings from another's, per stream kind."""
    info = ffprobe(path)
    keys = {
        "video": (
            "codec_name",
            "profile",
            "pix_fmt",
            "width",
            "height",
            "r_frame_rate",
            "sample_aspect_ratio",
            "color_range",
            "color_space",
            "color_primaries",
            "color_transfer",
            "level",
        ),
        "audio": ("codec_name", "profile", "sample_rate", "channels", "channel_layout"),
    }
    return {s["codec_type"]: tuple(s.get(k) for k in keys[s["codec_type"]]) for s in info["streams"]}


# Text that names a device or an encoder (with its version): x264's option SEI, libavcodec/-format and LAME versions.
ENCODER_TEXT = re.compile(rb"x264 - core|Lav[cf]\d|LAME\d|Kestrel|Pellam|Orrin|Tascor|Voxlet")


def test_a_normalising_study_stores_every_device_in_one_profile(study, clips, write_manifest, tmp_path):
    """New studies normalise by default: an H.264 phone clip (copied otherwise), an MPEG-4 camera clip and a
    silent 50 fps MPEG-2 one, and AAC, PCM and MP3 sound, come out with one codec, profile, size, rate, pixel
    format and audio format, and no device or encoder-version text; copying keeps the phone clip's own profile."""
    phone, camera, dictaphone = tmp_path / "phone.mp4", tmp_path / "camera.mov", tmp_path / "dictaphone.mp3"
    mute = tmp_path / "mute.mpg"
    make = lambda *args: subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)  # noqa: E731
    make(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=30:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=500:sample_rate=44100:duration=1",
        "-ac",
        "2",
        "-c:v",
        "libx264",
        "-profile:v",
        "baseline",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-metadata",
        "make=Kestrel",
        "-shortest",
        str(phone),
    )
    make(
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=15:duration=1",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:sample_rate=22050:duration=1",
        "-c:v",
        "mpeg4",
        "-c:a",
        "pcm_s16le",
        "-metadata",
        "make=Pellam",
        "-shortest",
        str(camera),
    )
    make(
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=700:sample_rate=16000:duration=1",
        "-c:a",
        "libmp3lame",
        "-metadata",
        "encoded_by=Voxlet",
        str(dictaphone),
    )
    make("-f", "lavfi", "-i", "testsrc2=size=720x576:rate=50:duration=1", "-c:v", "mpeg2video", str(mute))
    with study.store.read() as db:
        assert study_codebook(db).normalise_media is True
    rows = [
        video("V1", phone),
        video("V2", camera),
        video("V3", mute),
        audio("A1", clips.m4a),
        audio("A2", clips.wav),
        audio("A3", dictaphone),
    ]

    import_manifest(study.store, study.media, write_manifest(rows), "importer")

    stored = {k: study.media.path(r.media_name) for k, (r, _, _) in keys_by_external_id(study.store).items()}
    facts = {k: stream_facts(path) for k, path in stored.items()}
    assert facts["V1"] == facts["V2"] == facts["V3"]
    assert facts["V1"]["video"][:6] == ("h264", "High", "yuv420p", 1280, 720, "25/1")
    assert facts["A1"] == facts["A2"] == facts["A3"] == {"audio": facts["V1"]["audio"]}
    assert facts["A1"]["audio"][:4] == ("aac", "LC", "48000", 1)
    encoders = {k: [t.get("encoder") for t in all_tags(ffprobe(path))] for k, path in stored.items()}
    assert encoders["V1"] == encoders["V2"] == encoders["V3"] and encoders["A1"] == encoders["A2"] == encoders["A3"]
    for path in stored.values():
        assert not ENCODER_TEXT.search(path.read_bytes()), path.name

    # The same phone clip in a study that copies: its own profile and size stay (what normalising removes).
    other = MediaStore(tmp_path / "copied")
    with other.importing():
        copied = other.add(phone, "video", probe(phone), normalise=False)
    assert not copied.transcoded
    assert stream_facts(other.path(copied.name))["video"][:5] == ("h264", "Constrained Baseline", "yuv420p", 640, 360)


def test_the_media_setting_is_on_for_new_studies_kept_for_old_ones_and_checked(study, clips, write_manifest):
    """A codebook that does not say: on for a study without recordings, off for one that has them (it was set up
    before media could be normalised); what a codebook says is stored and audited; anything but a boolean is refused."""
    with study.store.read() as db:
        assert study_codebook(db).normalise_media is True
    import_manifest(study.store, study.media, write_manifest([audio("A1", clips.wav)]), "importer")
    with study.store.write() as db:  # as a study set up before the setting existed
        db.delete(db.get(StudySetting, "normalise_media"))

    assert initialise(study.store, load_codebook(), "pi") == ["media: copied where browsers play them"]
    with study.store.read() as db:
        assert study_codebook(db).normalise_media is False
    assert initialise(study.store, replace(load_codebook(), normalise_media=True), "pi") == [
        "media: every recording re-encoded to one profile"
    ]
    assert audit_rows(study.store, "study.declare")[-1].new == {"normalise_media": True}

    bad = study.root / "bad-codebook.toml"
    bad.write_text(
        DEFAULT_CODEBOOK.read_text(encoding="utf-8") + '\n[study]\nnormalise_media = "yes"\n', encoding="utf-8"
    )
    with pytest.raises(CodebookError, match="normalise_media must be true or false"):
        load_codebook(bad)


def test_near_duplicate_labels_are_imported_with_a_warning_naming_both_spellings_and_their_rows(
    study, clips, write_manifest
):
    """No [study] section: 'Month5' beside 'month 5' (and 'Site A' beside 'site-a', '01' beside '1') import as written,
    and each pair is named with its rows; a later manifest is compared with what the study already has."""
    here = study.root / "sessions"
    rows = [
        audio("A1", clips.wav_variant(here, 1), site="Site A", timepoint="Month5", session="1"),
        audio("A2", clips.wav_variant(here, 2), participant_id="P02", site="site-a", timepoint="month 5", session="01"),
        audio("A3", clips.wav_variant(here, 3), site="Site A", timepoint="month 5", session="2"),
    ]

    summary = import_manifest(study.store, study.media, write_manifest(rows), "importer")

    assert summary.added == 3
    assert summary.warnings == [
        "field 'site': 'Site A' (rows 2, 4) and 'site-a' (row 3) differ only in case, spaces, punctuation or zero "
        "padding, and count as different sites: spell each site one way",
        "field 'timepoint': 'Month5' (row 2) and 'month 5' (rows 3, 4) differ only in case, spaces, punctuation or "
        "zero padding, and count as different timepoints: spell each timepoint one way",
        "field 'session': '1' (row 2) and '01' (row 3) differ only in case, spaces, punctuation or zero padding, and "
        "count as different sessions: spell each session one way",
    ]
    later = import_manifest(
        study.store,
        study.media,
        write_manifest(
            [
                audio(
                    "A4",
                    clips.wav_variant(here, 4),
                    participant_id="P03",
                    site="North",
                    timepoint="MONTH 05",
                    session="2",
                )
            ],
            "later.csv",
        ),
        "importer",
    )
    assert later.warnings[1].startswith(
        "field 'timepoint': 'Month5' (already in the study), 'month 5' (already in the study) and 'MONTH 05' (row 2)"
    )


def test_declared_labels_are_checked_exactly_and_not_warned_about(study, clips, write_manifest):
    """With [study] timepoints, 'Month5' is refused as before (naming the label it resembles), never merely warned."""
    study.declare_arms()
    refused = write_manifest([video("V1", clips.mp4, timepoint="Month5")])
    with pytest.raises(
        ImportRefused,
        match="row 2: field 'timepoint': 'Month5' is not one of the study's timepoints "
        r"\(baseline, month 5, month 8\); did you mean 'month 5'\?",
    ):
        import_manifest(study.store, study.media, refused, "importer")
    here = study.root / "sessions"
    summary = import_manifest(
        study.store,
        study.media,
        write_manifest(
            [
                audio("A1", clips.wav_variant(here, 1), timepoint="month 5"),
                audio("A2", clips.wav_variant(here, 2), participant_id="P02", timepoint="baseline", site="north"),
            ]
        ),
        "importer",
    )
    assert summary.warnings == [
        "field 'site': 'North' (row 2) and 'north' (row 3) differ only in case, spaces, "
        "punctuation or zero padding, and count as different sites: spell each site one way"
    ]


def test_an_import_reports_each_row_checked_and_each_recording_stored(study, clips, write_manifest):
    """The progress callback: every manifest row as it is checked, then every new recording as it is stored."""
    here = study.root / "sessions"
    import_manifest(
        study.store, study.media, write_manifest([audio("A1", clips.wav_variant(here, 1))], "first.csv"), "importer"
    )
    rows = [audio(f"A{n}", clips.wav_variant(here, n), session=str(n)) for n in range(1, 4)]
    calls = []

    import_manifest(
        study.store, study.media, write_manifest(rows), "importer", progress=lambda *call: calls.append(call)
    )

    assert calls == [("checked", 1, 3), ("checked", 2, 3), ("checked", 3, 3), ("stored", 1, 2), ("stored", 2, 2)]
