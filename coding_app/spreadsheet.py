"""Reading the spreadsheets trial teams keep: CSV or XLSX, as Excel writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from zipfile import BadZipFile

import pandas as pd

from .errors import ImportRefused

HEADER_ROW = 1
# Excel in much of Europe writes CSV with ';' between cells; a tab-separated export is the other usual slip.
_OTHER_SEPARATORS = {";": "';'", "\t": "tabs"}


class SpreadsheetError(ValueError):
    """A file that cannot be read as a table; the message says which file, which row and why."""


def _unreadable(name: str, problems: Sequence[str]) -> SpreadsheetError:
    """The error for a file whose rows cannot be made into a table, naming each row at fault."""
    return SpreadsheetError(f"{name}: cannot be read as a table: {'; '.join(problems)}")


def column_letter(index: int) -> str:
    """Excel's name of the column at 0-based ``index`` (A, B, ..., Z, AA, ...), as the person sees it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _csv_records(path: Path) -> list[list[str]]:
    """Every record of a CSV, blank lines included so that the n-th record is spreadsheet row n.

    A UTF-8 byte-order mark and Windows line endings are accepted (inside a cell of several lines
    too, which keeps plain newlines). A byte that is not UTF-8 (Excel's plain "CSV" on Windows
    writes cp1252) is reported by its row rather than guessed at: a wrongly decoded accent would
    silently turn a path into one that does not exist.
    """
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        row = data[: error.start].count(b"\n") + 1
        raise _unreadable(path.name, [f"row {row}: not UTF-8 text (in Excel, save it as 'CSV UTF-8')"]) from None
    return list(csv.reader(io.StringIO(text.replace("\r\n", "\n"), newline="")))


def _xlsx_records(path: Path) -> list[list[str]]:
    """Every row of the first sheet as text; date cells come as ISO date-times, blank cells as ""."""
    try:
        frame = pd.read_excel(path, header=None, dtype=str, keep_default_na=False)
    except (BadZipFile, ValueError, KeyError) as error:
        raise _unreadable(path.name, [f"not an Excel workbook ({type(error).__name__})"]) from None
    return frame.to_numpy().tolist()


def _header(name: str, records: list[list[str]]) -> tuple[list[str], list[int]]:
    """The column names (stripped, lower-case) and the positions of the columns to keep.

    A column with neither a name nor any value (Excel's trailing separators) is dropped; one
    with values but no name, or a name used twice (even differing only in case), is refused:
    which of the two is meant cannot be known.
    """
    names = [str(cell).strip().lower() for cell in records[0]] if records else []
    if not any(names):
        raise _unreadable(name, [f"row {HEADER_ROW}: no column names (the file is empty, or its first row is)"])
    problems: list[str] = []
    keep: list[int] = []
    first: dict[str, int] = {}
    for position, column in enumerate(names):
        if not column:
            filled = next(
                (
                    row
                    for row, cells in enumerate(records[1:], HEADER_ROW + 1)
                    if position < len(cells) and str(cells[position]).strip()
                ),
                None,
            )
            if filled is not None:
                problems.append(
                    f"row {filled}: column {column_letter(position)} has a value but no name in row {HEADER_ROW}"
                )
            continue
        if column in first:
            problems.append(
                f"row {HEADER_ROW}: columns {column_letter(first[column])} and {column_letter(position)} "
                f"are both named {column!r}"
            )
        first.setdefault(column, position)
        keep.append(position)
    if problems:
        raise _unreadable(name, problems)
    return [names[p] for p in keep], keep


def read_table(path: Path) -> pd.DataFrame:
    """Every cell as text with surrounding spaces removed, blank cells as "".

    Column names are stripped and lower-cased. The index is the spreadsheet's own row number
    (the header is row 1; blank rows are skipped but still counted), so that errors point at
    the row a person sees in Excel. Short rows are padded with blanks; a row with more cells
    than the header has names is refused, since its values cannot be put in their columns.
    """
    readers = {".csv": _csv_records, ".xlsx": _xlsx_records}
    read = readers.get(path.suffix.lower())
    if read is None:
        raise SpreadsheetError(f"{path.name}: expected a .csv or .xlsx file")
    try:
        records = read(path)
    except FileNotFoundError:
        raise SpreadsheetError(f"{path.name}: no such file") from None
    except (OSError, csv.Error) as error:
        raise _unreadable(path.name, [f"the file cannot be opened ({type(error).__name__})"]) from None
    columns, keep = _header(path.name, records)
    width = max(keep) + 1
    rows, numbers, problems = [], [], []
    for number, record in enumerate(records[1:], HEADER_ROW + 1):
        cells = [str(cell).strip() for cell in record]
        if any(cells[width:]):
            problems.append(f"row {number}: {len(cells)} cells, but row {HEADER_ROW} names only {width} columns")
        elif any(cells):
            padded = cells + [""] * (width - len(cells))
            rows.append([padded[p] for p in keep])
            numbers.append(number)
    if problems:
        raise _unreadable(path.name, problems)
    return pd.DataFrame(rows, columns=columns, index=numbers, dtype=object)


def read_columns(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    """:func:`read_table`, refusing the file (as an import) when a required column is missing.

    A header that is one column holding separators means the file was saved with ';' or tabs
    between cells: that is said instead of listing every column as missing.
    """
    table = read_table(path)
    missing = [c for c in columns if c not in table.columns]
    if not missing:
        return table
    found = [
        label
        for separator, label in _OTHER_SEPARATORS.items()
        if len(table.columns) == 1 and separator in table.columns[0]
    ]
    if found:
        raise ImportRefused(
            path.name,
            [
                f"row {HEADER_ROW}: the cells are separated by {found[0]}, not commas "
                "(in Excel, save it as 'CSV UTF-8 (comma delimited)')"
            ],
        )
    named = ", ".join(f"'{c}'" for c in missing)
    raise ImportRefused(
        path.name,
        [
            f"row {HEADER_ROW}: column{'s' if len(missing) > 1 else ''} {named} "
            f"{'are' if len(missing) > 1 else 'is'} missing"
        ],
    )
