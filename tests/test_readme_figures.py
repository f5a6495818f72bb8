"""The README's "Under attack" figures are the suites' own counts: a change to a suite that is not
carried to the README fails here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.bad_input.cases import CASES, FINE, REFUSED
from tests.faults import test_concurrent_coders
from tests.security.test_attacks import ATTACKS

README = Path(__file__).parents[1] / "README.md"


def rows() -> dict[str, list[str]]:
    """The "Under attack" table's rows, by the first words of their suite cell."""
    section = README.read_text(encoding="utf-8").split("## Under attack", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| suite")]
    return {
        cells[0].split(" (")[0]: cells for cells in ([c.strip() for c in line.strip("|").split("|")] for line in table)
    }


def numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def test_the_security_row_counts_the_attack_table():
    _, attempts, refused, lost = rows()["security"]
    assert numbers(attempts) == [len(ATTACKS)]
    assert numbers(refused)[0] == len(ATTACKS) and "each audited once" in refused
    assert lost == "0"


def test_the_bad_input_row_counts_the_library():
    _, attempts, outcome, lost = rows()["bad input"]
    assert numbers(attempts)[:3] == [len(CASES), len(REFUSED), len(FINE)]
    assert numbers(outcome) == [len(REFUSED), len(FINE)]
    assert lost == "0"


def test_the_concurrent_coders_row_is_the_test_s_size():
    _, attempts, stored, lost = rows()["concurrent coders"]
    coders, recordings = test_concurrent_coders.CODERS, test_concurrent_coders.RECORDINGS
    assert numbers(attempts) == [coders, recordings, 2]
    assert numbers(stored) == [coders * recordings * 2]
    assert lost == "0 lost, 0 duplicated, 0 errors"


def trust_review() -> dict[int, list[str]]:
    """The trust review's findings, by number: the tests each row names (path::function)."""
    section = README.read_text(encoding="utf-8").split("## Under attack", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and cells[0].isdigit():
            found[int(cells[0])] = re.findall(r"`(tests/[\w/]+\.py::\w+)`", cells[3])
    return found


def test_the_trust_review_row_counts_its_findings_and_each_names_tests_that_exist():
    findings = trust_review()
    _, attempts, closed, lost = rows()["trust review"]
    assert sorted(findings) == list(range(1, len(findings) + 1))
    assert numbers(attempts) == [len(findings)] and numbers(closed) == [len(findings)] and lost == "0"
    for number, tests in findings.items():
        assert tests, f"finding {number} names no test"
        for test in tests:
            path, name = test.split("::")
            tree = ast.parse((README.parent / path).read_text(encoding="utf-8"))
            assert name in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}, test
