"""Spreadsheets as trial teams have them: Excel's CSV quirks and real XLSX files."""

import pandas as pd
import pytest

from coding_app.spreadsheet import SpreadsheetError, read_table


def test_excel_csv_with_bom_crlf_and_stray_spaces(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_bytes("\ufeff Unit ,Coder,score\r\n u1 , A ,5.5\r\nu2,B, \r\n".encode())
    table = read_table(path)
    assert list(table.columns) == ["unit", "coder", "score"]
    assert table.loc[2].tolist() == ["u1", "A", "5.5"]
    assert table.loc[3, "score"] == ""
    assert list(table.index) == [2, 3]


def test_xlsx_rows_are_numbered_as_excel_shows_them(tmp_path):
    path = tmp_path / "ratings.xlsx"
    pd.DataFrame({"Unit": ["u1", "u2"], "Score": [5.5, 6]}).to_excel(path, index=False)
    table = read_table(path)
    assert table.loc[3].tolist() == ["u2", "6"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ratings.txt", b"a,b\n", "expected a .csv or .xlsx file"),
        ("ratings.xlsx", b"not a zip", "cannot be read as a table"),
        ("ratings.csv", b"", "cannot be read as a table"),
        ("ratings.csv", "unit\n\xe9".encode("latin-1"), "cannot be read as a table"),
    ],
)
def test_unreadable_files_get_a_clear_error_naming_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SpreadsheetError, match=f"{name}: {message}"):
        read_table(path)


def test_missing_file(tmp_path):
    with pytest.raises(SpreadsheetError, match="nowhere.csv: no such file"):
        read_table(tmp_path / "nowhere.csv")
