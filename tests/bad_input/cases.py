"""The bad-input library's table (``fixtures/bad_input/cases.toml``) as test parameters."""

from __future__ import annotations

from dataclasses import dataclass, field

from fixtures.bad_input import cases

IMPORTS = ("manifest", "allocation", "ratings", "master_codes")
EXPECTED = ("recordings", "arms", "ratings", "master_codes")


@dataclass(frozen=True)
class Case:
    """One file of the library: refused naming ``errors`` (row, texts), or imported adding ``imports``."""

    file: str
    kind: str
    errors: tuple[tuple[int, tuple[str, ...]], ...] = ()
    imports: int | None = None
    expected: dict = field(default_factory=dict)
    same: str = ""
    """The kind of problem, named alike in the cases that must be refused with the same lines."""

    @classmethod
    def from_table(cls, entry: dict) -> Case:
        """A case from its table entry; a malformed entry stops the run here, not as a passing test."""
        if entry["import"] not in IMPORTS or ("errors" in entry) == ("imports" in entry):
            raise ValueError(f"{entry['file']}: needs an import of {IMPORTS} and either errors or imports")
        errors = tuple((row, tuple(texts)) for row, *texts in entry.get("errors", []))
        if "errors" in entry and not all(texts for _, texts in errors):
            raise ValueError(f"{entry['file']}: every expected error names at least one text besides the row")
        expected = {k: entry[k] for k in EXPECTED if k in entry}
        return cls(entry["file"], entry["import"], errors, entry.get("imports"), expected, entry.get("same", ""))

    @property
    def refused(self) -> bool:
        return self.imports is None


CASES = [Case.from_table(entry) for entry in cases()]
REFUSED = [case for case in CASES if case.refused]
FINE = [case for case in CASES if not case.refused]
ALIKE = {
    name: [case for case in REFUSED if case.same == name] for name in sorted({case.same for case in REFUSED} - {""})
}
