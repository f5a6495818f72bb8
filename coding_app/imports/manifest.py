"""Importing recordings from a manifest: all or nothing, every bad row named.

Each recording gets an opaque random code and a stripped copy of its media under an opaque
name; who, when and where it comes from goes into the unblinding key.
"""

from __future__ import annotations

import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from .. import audit, playback
from ..codebook import KINDS
from ..media import MediaError, MediaStore, Probe, StoredMedia, content_hash, plan, probe, require_ffmpeg
from ..spreadsheet import read_columns
from ..store import Store
from ..store.models import Participant, Recording, RecordingKey
from ..study import study_codebook
from .identifiers import new_code, same_id
from .rows import RowProblems

MANIFEST_COLUMNS = (
    "recording_id",
    "participant_id",
    "site",
    "arm",
    "timepoint",
    "kind",
    "session",
    "clinician",
    "path",
)
REQUIRED = ("recording_id", "participant_id", "kind", "path")
# Labels that group recordings downstream (draws, analysis), so two spellings of one make two groups.
LABELS = ("site", "arm", "timepoint", "session")


def label_form(value: str) -> str:
    """What near-duplicate labels share: no case, spaces or punctuation, numbers without leading zeros.

    'Month5', 'month 5' and 'month 05' are one form; so are 'Site A' and 'site-a'.
    """
    bare = re.sub(r"[\W_]+", "", unicodedata.normalize("NFKC", value)).casefold()
    return re.sub(r"\d+", lambda number: str(int(number.group())), bare)


def _rows_named(rows: list[int]) -> str:
    shown = ", ".join(map(str, rows[:5])) + (f" and {len(rows) - 5} more" if len(rows) > 5 else "")
    return f"row{'s' if len(rows) > 1 else ''} {shown}"


def near_duplicates(name: str, spellings: dict[str, list[int]]) -> list[str]:
    """A warning for each group of spellings of ``name`` that share one :func:`label_form`.

    ``spellings``: each label as written, with the manifest rows that have it (none: already in the study).
    """
    groups: dict[str, list[str]] = {}
    for label in spellings:
        groups.setdefault(label_form(label), []).append(label)
    said = []
    for labels in groups.values():
        if len(labels) > 1:
            where = [
                f"{label!r} ({_rows_named(spellings[label]) if spellings[label] else 'already in the study'})"
                for label in labels
            ]
            said.append(
                f"field '{name}': {', '.join(where[:-1])} and {where[-1]} differ only in case, spaces, "
                f"punctuation or zero padding, and count as different {name}s: spell each {name} one way"
            )
    return said


@dataclass
class ManifestRow:
    row: int
    values: dict[str, str]
    extra: dict[str, str]
    source: Path
    digest: str = ""
    found: Probe | None = None


@dataclass
class ImportSummary:
    added: int = 0
    unchanged: int = 0
    transcoded: int = 0
    participants_added: int = 0
    codes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Near-duplicate labels (:func:`near_duplicates`): imported as written, but probably meant as one."""


def _relative(text: str) -> str | None:
    """A relative manifest path with '/' between folders ('\\' too: manifests made on Windows); None if absolute."""
    return None if text.startswith(("/", "~")) else text.replace("\\", "/")


def _resolve(manifest: Path, text: str) -> Path:
    relative = _relative(text)
    if relative is not None:
        return manifest.parent / relative
    try:
        return Path(text).expanduser()
    except RuntimeError:  # '~someone' with no such user: taken as written, and found missing
        return Path(text)


def _check_file(text: str, path: Path) -> str | None:
    """Why this path cannot be a recording's file, or None. Never repeats the path itself.

    A relative path is the manifest's own folder's business: one climbing out of it ('../..')
    is refused, whatever it reaches, so a manifest handed over by a site cannot pull in files
    from elsewhere on the machine; a file outside is named by its absolute path, deliberately.
    """
    relative = _relative(text)
    if relative is not None and posixpath.normpath(relative).split("/")[0] == "..":
        return "a relative path may not climb out of the manifest's folder ('..'); give the absolute path instead"
    try:
        if not path.exists():
            return "no such file"
        if not path.is_file():
            return "not a regular file"
        if path.stat().st_size == 0:
            return "the file is empty (0 bytes)"
        with path.open("rb"):
            return None
    except OSError:
        return "the file cannot be read"


class _Validation:
    """Collects every problem of a manifest before anything is written."""

    def __init__(self, store: Store, manifest: Path) -> None:
        self.manifest = manifest
        self.problems = RowProblems(manifest.name)
        with store.read() as db:
            self.codebook = study_codebook(db)
            self.participants = {same_id(p.external_id): p for p in db.scalars(select(Participant))}
            self.keys = {same_id(k.external_id): k for k in db.scalars(select(RecordingKey))}
            self.recordings = {r.id: r for r in db.scalars(select(Recording))}
        self.participants_by_id = {p.id: p for p in self.participants.values()}
        self.normalise = bool(self.codebook.normalise_media)  # a study's codebook always says (study_codebook)
        self.hashes = {k.content_hash: k.external_id for k in self.keys.values()}
        self.seen_hashes: dict[str, int] = {}
        self.facts: dict[str, tuple[int, dict[str, str]]] = {}
        # Per label field: each spelling with the rows that use it, starting from the study's own.
        self.spellings: dict[str, dict[str, list[int]]] = {name: {} for name in LABELS}
        for participant in self.participants.values():
            self.spellings["site"].setdefault(participant.site, [])
            self.spellings["arm"].setdefault(participant.arm or "", [])
        for key in self.keys.values():
            self.spellings["timepoint"].setdefault(key.timepoint, [])
            self.spellings["session"].setdefault(key.session or "", [])

    def labels(self, entry: ManifestRow) -> None:
        v, row = entry.values, entry.row
        for name in REQUIRED:
            if not v[name]:
                self.problems.blank(row, name)
        if v["kind"] and v["kind"].lower() not in KINDS:
            self.problems.add(row, f"{v['kind']!r} is not video or audio", "kind")
        if v["kind"].lower() == "video" and not v["timepoint"]:
            self.problems.blank(row, "timepoint", "every video needs its timepoint")
        for name, declared in (("arm", self.codebook.arms), ("timepoint", self.codebook.timepoints)):
            self.problems.declared(row, name, v[name], declared)
        for name in LABELS:
            self.spellings[name].setdefault(v[name], []).append(row)

    def warnings(self) -> list[str]:
        """Near-duplicate spellings of the labels the codebook does not declare (declared ones are checked exactly)."""
        declared = {"arm": self.codebook.arms, "timepoint": self.codebook.timepoints}
        return [
            warning
            for name in LABELS
            if not declared.get(name)
            for warning in near_duplicates(name, {k: v for k, v in self.spellings[name].items() if k})
        ]

    def identity(self, entry: ManifestRow) -> bool:
        """Checks the recording id; True when it is a new recording to import."""
        v, row = entry.values, entry.row
        if self.problems.repeated_id(row, "recording_id", v["recording_id"]):
            return False
        pid = same_id(v["participant_id"])
        first_row, facts = self.facts.setdefault(pid, (row, {"site": v["site"], "arm": v["arm"]}))
        for name, before in _disagreements(facts, v):
            self.problems.add(
                row,
                f"participant {v['participant_id']!r} has {name} {v[name]!r} here but {before!r} in row {first_row}",
                name,
            )
        facts["arm"] = facts["arm"] or v["arm"]
        known = self.participants.get(pid)
        for name, before in _disagreements({"site": known.site, "arm": known.arm or ""} if known else {}, v):
            self.problems.already(row, name, v["participant_id"], before, v[name])
        return True

    def media(self, entry: ManifestRow) -> None:
        why = _check_file(entry.values["path"], entry.source)
        if why:
            self.problems.add(entry.row, why, "path")
            return
        entry.digest = content_hash(entry.source)
        if entry.digest in self.seen_hashes:
            self.problems.add(entry.row, f"the same file (by content) as row {self.seen_hashes[entry.digest]}", "path")
        self.seen_hashes.setdefault(entry.digest, entry.row)

    def existing(self, entry: ManifestRow) -> bool:
        """True when the row is a recording already imported, unchanged; a changed one is a problem."""
        key = self.keys.get(same_id(entry.values["recording_id"]))
        if key is None:
            other = self.hashes.get(entry.digest)
            if other is not None:
                self.problems.add(
                    entry.row, f"the same file (by content) as recording {other!r}, already imported", "path"
                )
            return False
        v = entry.values
        participant = self.participants_by_id[key.participant_id]
        recording = self.recordings[key.recording_id]
        stored = {
            "recording_id": key.external_id,
            "participant_id": participant.external_id,
            "kind": recording.kind,
            "timepoint": key.timepoint,
            "session": key.session or "",
            "clinician": key.clinician or "",
        }
        given = {name: v[name].lower() if name == "kind" else v[name] for name in stored}
        changed = [
            name
            for name in stored
            if (same_id(stored[name]) if name.endswith("_id") else stored[name])
            != (same_id(given[name]) if name.endswith("_id") else given[name])
        ]
        if key.external_id != v["recording_id"]:
            changed.append("recording_id")
        if entry.digest and key.content_hash != entry.digest:
            changed.append("path")
        if changed:
            fields = ", ".join(f"'{name}'" for name in dict.fromkeys(changed))
            self.problems.add(
                entry.row,
                f"recording {v['recording_id']!r} is already imported with a different "
                f"field{'s' if len(changed) > 1 else ''} {fields}",
            )
        return True

    def playable(self, entry: ManifestRow) -> None:
        try:
            entry.found = probe(entry.source)
            plan(entry.values["kind"].lower(), entry.found, self.normalise)
        except MediaError as error:
            self.problems.add(entry.row, str(error), "path")


def _disagreements(known: dict[str, str], given: dict[str, str]) -> list[tuple[str, str]]:
    """(field, known value) where a participant's site or arm disagrees with what was known of them.

    A blank arm agrees with any: the arm may be filled in later from the allocation list.
    """
    return [
        (name, known[name])
        for name in ("site", "arm")
        if known and known[name] != given[name] and (name == "site" or (known[name] and given[name]))
    ]


def _rows(manifest: Path, table: pd.DataFrame) -> list[ManifestRow]:
    extra_columns = [c for c in table.columns if c not in MANIFEST_COLUMNS]
    return [
        ManifestRow(
            row,
            {c: record[c] for c in MANIFEST_COLUMNS},
            {c: record[c] for c in extra_columns},
            _resolve(manifest, record["path"]) if record["path"] else manifest,
        )
        for row, record in table.iterrows()
    ]


# Told how far an import has got: (stage, done, total); stage "checked" counts manifest rows, "stored" new recordings.
Progress = Callable[[str, int, int], None]


def import_manifest(
    store: Store, media: MediaStore, manifest: Path, actor: str, progress: Progress | None = None
) -> ImportSummary:
    """Import every recording of a manifest (CSV or XLSX), or none.

    Columns: recording_id, participant_id, site, arm (may be blank, filled later from the
    allocation list), timepoint, kind (video | audio), session, clinician, path (absolute, or
    relative to the manifest's folder); extra columns are kept as hidden metadata. Rows already
    imported with the same details are left as they are, so re-importing changes nothing.
    ``progress`` is told of each row checked (reading a long recording takes a while) and each
    recording stored (a conversion can take minutes).
    """
    tell = progress or (lambda stage, done, total: None)
    require_ffmpeg()
    media.remove_orphans(store)
    table = read_columns(manifest, MANIFEST_COLUMNS)
    check = _Validation(store, manifest)
    new = []
    for done, entry in enumerate(_rows(manifest, table), start=1):
        check.labels(entry)
        if check.identity(entry):
            if entry.values["path"]:
                check.media(entry)
            if not check.existing(entry):
                new.append(entry)
                if entry.digest:
                    check.playable(entry)
        tell("checked", done, len(table))
    check.problems.refuse()
    summary = ImportSummary(unchanged=len(table) - len(new), warnings=check.warnings())
    if not new:
        return summary
    stored: list[StoredMedia] = []
    facts: list[playback.Facts] = []
    with media.importing():
        try:
            for entry in new:
                assert entry.found is not None  # probed by check.playable: a new row's media was read
                try:
                    stored.append(media.add(entry.source, entry.values["kind"].lower(), entry.found, check.normalise))
                    facts.append(playback.measure(media.path(stored[-1].name)))  # what coders get: the stored copy
                except MediaError as error:
                    check.problems.add(entry.row, str(error), "path")
                    break
                tell("stored", len(stored), len(new))
            check.problems.refuse()
            _write(store, new, stored, facts, check, actor, summary)
        except BaseException:
            for item in stored:
                media.remove(item.name)
            raise
    return summary


def _write(
    store: Store,
    new: list[ManifestRow],
    stored: list[StoredMedia],
    facts: list[playback.Facts],
    check: _Validation,
    actor: str,
    summary: ImportSummary,
) -> None:
    with store.write() as db:
        taken = set(db.scalars(select(Recording.code)))
        participants = {same_id(p.external_id): p for p in db.scalars(select(Participant))}
        for entry, item, measured in zip(new, stored, facts, strict=True):
            v = entry.values
            pid = same_id(v["participant_id"])
            participant = participants.get(pid)
            if participant is None:
                participant = Participant(external_id=v["participant_id"], site=v["site"], arm=v["arm"] or None)
                db.add(participant)
                participants[pid] = participant
                summary.participants_added += 1
            elif participant.arm is None and v["arm"]:
                participant.arm = v["arm"]
            db.flush()
            recording = Recording(
                code=new_code(taken), kind=v["kind"].lower(), media_name=item.name, media_type=item.media_type
            )
            db.add(recording)
            db.flush()
            playback.keep(db, recording.id, measured)
            key = RecordingKey(
                recording_id=recording.id,
                external_id=v["recording_id"],
                participant_id=participant.id,
                timepoint=v["timepoint"],
                session=v["session"] or None,
                clinician=v["clinician"] or None,
                original_path=str(entry.source.resolve()),
                content_hash=entry.digest,
                file_metadata=entry.found.metadata if entry.found else {},
                extra=entry.extra,
            )
            db.add(key)
            audit.record(
                db,
                actor,
                "recording.import",
                "recording",
                recording.code,
                new={"recording_id": v["recording_id"], "kind": recording.kind, "transcoded": item.transcoded},
            )
            summary.added += 1
            summary.transcoded += item.transcoded
            summary.codes.append(recording.code)
