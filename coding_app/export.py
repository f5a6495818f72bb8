"""Exporting ratings for analysis: CSV, XLSX or SPSS, blinded unless a PI asks otherwise."""

from __future__ import annotations

import errno
from datetime import date
from pathlib import Path
from typing import Literal, overload

import pandas as pd
import pyreadstat

from . import audit
from .accounts import require_role
from .exclusions import not_counted, why_not_counted
from .ratings import submitted_ratings
from .store import Store
from .store.models import Account
from .study import study_codebook
from .unblinding import KEY_COLUMNS, key_table

Format = Literal["csv", "xlsx", "sav"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "sav")
# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets (OWASP, CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` for a spreadsheet: every text cell (and header) a spreadsheet would run as a formula gets a leading
    quote, which keeps it readable as text. Numbers are left as they are (-1 stays a number).

    The ratings export and the reliability tables go through this: a manifest value or a consensus reason
    such as ``=HYPERLINK(...)`` must not become a live formula on the PI's machine.
    """

    def cell(value: object) -> object:
        return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value

    text = [
        c for c in table.columns if pd.api.types.is_object_dtype(table[c]) or pd.api.types.is_string_dtype(table[c])
    ]
    cells = table.assign(**{c: table[c].map(cell) for c in text}) if text else table
    return cells.rename(columns=cell)  # a header is a cell too (scale keys come from the study's codebook)


@overload
def spreadsheet_csv(table: pd.DataFrame, path: None = None, **options: object) -> str: ...
@overload
def spreadsheet_csv(table: pd.DataFrame, path: Path, **options: object) -> None: ...
def spreadsheet_csv(table: pd.DataFrame, path: Path | None = None, **options: object) -> str | None:
    """:func:`neutralised` ``table`` as CSV (to ``path``, else returned), with RFC 4180's CRLF line ends
    so that a carriage return inside a cell is quoted rather than read as the end of a row."""
    return neutralised(table).to_csv(path, index=False, lineterminator="\r\n", **options)


def default_name(fmt: Format, unblinded: bool) -> str:
    """A file name that says what the file is and nothing about any participant."""
    return f"ratings-{'unblinded' if unblinded else 'blinded'}-{date.today():%Y%m%d}.{fmt}"


@audit.refusals("refused.export", "export")
def ratings_table(store: Store, account: Account | None, unblinded: bool) -> tuple[pd.DataFrame, dict[str, str], dict]:
    """One row per recording and coder, a score and class column per scale, and whether the ratings count.

    Every submitted rating is exported; those of a recording excluded from the study whose ratings do not
    count (:func:`coding_app.exclusions.counted`) say so, with the reason the analysis dataset lists.

    Returns the table, variable labels, and value labels of the class columns (for SPSS).
    Unblinded adds the key columns, needs a PI, and is audited (refused too).
    """
    with store.read() as db:
        long = submitted_ratings(db)
        codebook = study_codebook(db)
        dropped = not_counted(db)
    index = ["code", "kind", "coder"]
    table = (
        long.pivot(index=index, columns="scale", values="score").reset_index()
        if len(long)
        else pd.DataFrame(columns=index)
    )
    table.columns.name = None
    labels = {"code": "Recording (opaque code)", "kind": "Recording kind", "coder": "Coder"}
    value_labels = {}
    ordered = list(index)
    for definition in codebook.scales.values():
        if definition.key not in table.columns:
            continue
        ordered.append(definition.key)
        labels[definition.key] = definition.label
        if definition.scale.threshold is not None:
            column = f"{definition.key}_class"
            table[column] = [definition.class_of(s) if pd.notna(s) else None for s in table[definition.key]]
            labels[column] = f"{definition.label}: class (threshold {definition.scale.threshold:g})"
            value_labels[column] = dict(enumerate(definition.classes))
            ordered.append(column)
    table = table[ordered]
    last = long.groupby(["code", "coder"])["submitted_at"].max().rename("submitted_at") if len(long) else None
    if last is not None:
        # UTC without a zone: Excel and SPSS take no zones, and SQLite and PostgreSQL return them differently.
        last = pd.to_datetime(last, utc=True).dt.tz_localize(None)
        table = table.merge(last.reset_index(), on=["code", "coder"], how="left")
        labels["submitted_at"] = "Last submission"
    table["counted"] = ["no" if code in dropped else "yes" for code in table["code"]]
    table["not_counted_because"] = [why_not_counted(dropped[code]) if code in dropped else "" for code in table["code"]]
    labels |= {"counted": "Ratings count in the analysis", "not_counted_because": "Why the ratings do not count"}
    value_labels["counted"] = {0: "no", 1: "yes"}
    if unblinded:
        if account is None:
            raise PermissionError("an unblinded export needs a PI account (--as NAME)")
        require_role(account, "pi")
        key = key_table(store, account, "unblinded ratings export")
        table = key.merge(table, on="code", how="right")[[*KEY_COLUMNS, *table.columns]]
        labels |= {c: c.replace("_", " ").capitalize() for c in KEY_COLUMNS}
    return table, labels, value_labels


def write_table(
    table: pd.DataFrame, path: Path, fmt: str, labels: dict[str, str], value_labels: dict[str, dict]
) -> None:
    """Write ``table`` as CSV, XLSX (text neutralised), SPSS or Stata (``dta``), with variable labels and, for the
    columns in ``value_labels`` (number -> label; the column holds the labels), value labels."""
    if not path.parent.is_dir():
        # pandas and pyreadstat each say this their own way, without the errno a caller can tell it by.
        raise FileNotFoundError(errno.ENOENT, "no such folder", str(path.parent))
    if fmt == "csv":
        spreadsheet_csv(table, path, encoding="utf-8-sig")
    elif fmt == "xlsx":
        neutralised(table).to_excel(path, index=False)
    elif fmt in ("sav", "dta"):
        # SPSS and Stata run no formulas: their strings stay as they were given.
        coded = table.copy()
        for column, mapping in value_labels.items():
            codes = {label: number for number, label in mapping.items()}
            coded[column] = coded[column].map(codes)
        write = pyreadstat.write_sav if fmt == "sav" else pyreadstat.write_dta
        write(
            coded,
            str(path),
            column_labels=[labels.get(c, c) for c in coded.columns],
            variable_value_labels=value_labels,
        )
    else:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")


def export_ratings(
    store: Store, path: Path, fmt: Format, account: Account | None, actor: str, unblinded: bool = False
) -> int:
    """Write the ratings table to ``path``; returns the number of rows. Audited."""
    table, labels, value_labels = ratings_table(store, account, unblinded)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    write_table(table, path, fmt, labels, value_labels)
    with store.write() as db:
        audit.record(
            db,
            actor,
            "export.ratings",
            "export",
            None,
            new={"format": fmt, "rows": len(table), "unblinded": unblinded, "file": path.name},
        )
    return len(table)
