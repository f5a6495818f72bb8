"""Reading the spreadsheets trial teams keep: CSV or XLSX, as Excel writes them."""

from __future__ import annotations

from pathlib import Path
from zipfile import BadZipFile

import pandas as pd

HEADER_ROW = 1


class SpreadsheetError(ValueError):
    """A file that cannot be read as a table; the message says which file and why."""


def read_table(path: Path) -> pd.DataFrame:
    """Every cell as text with surrounding spaces removed, blank cells as "".

    Column names are stripped and lower-cased. The index is the spreadsheet's own row number
    (the header is row 1), so that errors can point at the row a person sees in Excel. A
    UTF-8 byte-order mark and Windows line endings are accepted.
    """
    readers = {
        ".csv": lambda: pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig"),
        ".xlsx": lambda: pd.read_excel(path, dtype=str, keep_default_na=False),
    }
    read = readers.get(path.suffix.lower())
    if read is None:
        raise SpreadsheetError(f"{path.name}: expected a .csv or .xlsx file")
    try:
        frame = read()
    except FileNotFoundError:
        raise SpreadsheetError(f"{path.name}: no such file") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, BadZipFile) as error:
        raise SpreadsheetError(f"{path.name}: cannot be read as a table ({error})") from None
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    frame = frame.apply(lambda column: column.str.strip())
    frame.index = range(HEADER_ROW + 1, HEADER_ROW + 1 + len(frame))
    return frame
