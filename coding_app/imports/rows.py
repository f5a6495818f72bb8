"""Checking a spreadsheet's rows before an import writes anything: one mechanism for every importer.

Each problem names its row (as Excel numbers it), its field and the value found, and a kind of
problem is worded one way whichever file it is found in, so a trial team reads "'x' is not a
scale in the codebook" from the ratings and the master codes alike. An import collects every
problem of every row, then writes all or nothing (:meth:`RowProblems.refuse`).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TypeVar

from reliability import Scale, ScoreError

from ..errors import ImportRefused
from ..store.models import Recording, ScaleRow
from .identifiers import same_id

Named = TypeVar("Named")


class RowProblems:
    """Every problem found in one file's rows, in the order found."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.found: list[str] = []
        self._first: dict[Hashable, tuple[int, str]] = {}

    def __len__(self) -> int:
        return len(self.found)

    def add(self, row: int, text: str, field: str | None = None) -> None:
        """Note that ``field`` of ``row`` (the whole row when None) is wrong: ``text`` says how, naming the value."""
        self.found.append(f"row {row}: " + (f"field '{field}': {text}" if field else text))

    def blank(self, row: int, field: str, why: str = "") -> None:
        self.found.append(f"row {row}: field '{field}' is blank" + (f" ({why})" if why else ""))

    def named(self, row: int, field: str, value: str, thing: Named | None, what: str) -> Named | None:
        """``thing``, what ``value`` names; the problem noted when the value is blank or names nothing
        (``what`` is what it should name: 'a scale in the codebook')."""
        if not value:
            self.blank(row, field)
        elif thing is None:
            self.add(row, f"{value!r} is not {what}", field)
        return thing

    def declared(self, row: int, field: str, value: str, declared: Sequence[str]) -> None:
        """Notes a label the study did not declare for ``field`` (nothing when it declares none).

        One differing only in case or spaces is refused too (labels are compared exactly
        downstream), and the message says which declared label it resembles.
        """
        if not value or not declared or value in declared:
            return
        near = next((label for label in declared if same_id(label) == same_id(value)), None)
        hint = f"; did you mean {near!r}?" if near else ""
        self.add(row, f"{value!r} is not one of the study's {field}s ({', '.join(declared)}){hint}", field)

    def score(self, row: int, text: str, scale: Scale) -> float | None:
        """The score as a level of the scale's grid, or None with the problem noted."""
        try:
            return scale.level(text or None, f"row {row}: field 'score'")
        except ScoreError as error:
            self.found.append(str(error))
            return None

    def rates(self, row: int, scale: ScaleRow, recording: Recording) -> bool:
        """Whether the scale rates recordings of this one's kind; the problem noted when not."""
        if scale.kind != recording.kind:
            self.add(row, f"{scale.key} rates {scale.kind} recordings, not {recording.kind}", "scale")
        return scale.kind == recording.kind

    def already(self, row: int, field: str, participant: str, before: str, given: str) -> None:
        """A participant the study already has with another site or arm: these never change."""
        self.add(
            row, f"participant {participant!r} is already in the study with {field} {before!r}, not {given!r}", field
        )

    def repeated_id(self, row: int, field: str, given: str) -> bool:
        """Whether an earlier row gave the same id (as :func:`same_id` compares); the problem noted when so."""
        first_row, first = self._first.setdefault((field, same_id(given)), (row, given))
        if first_row != row:
            alike = " (they differ only in case or spaces)" if first != given else ""
            self.add(row, f"{given!r} repeats row {first_row}{alike}", field)
        return first_row != row

    def repeated_row(self, row: int, key: Hashable, what: str) -> bool:
        """Whether an earlier row had the same ``key`` (``what`` names it: 'recording and scale'); noted when so."""
        first_row, _ = self._first.setdefault((what, key), (row, ""))
        if first_row != row:
            self.add(row, f"the same {what} as row {first_row}")
        return first_row != row

    def refuse(self) -> None:
        """Refuse the whole file, naming every problem, if there is any."""
        if self.found:
            raise ImportRefused(self.source, self.found)
