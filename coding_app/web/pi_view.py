"""How the PI's pages show a table (headers in words, scale labels, "—" for nothing, numbers
rounded) and what the PI should do next."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pandas as pd
import streamlit as st

from ..interpretation import readable

NOTHING = "—"


def _formatter(column: pd.Series, given: str | None) -> Callable[[object], str] | None:
    if given is not None:
        return given.format
    if pd.api.types.is_datetime64_any_dtype(column) or column.map(lambda v: isinstance(v, datetime)).any():
        return lambda v: pd.Timestamp(v).strftime("%Y-%m-%d %H:%M")
    if pd.api.types.is_float_dtype(column):
        return "{:.3f}".format
    return None


def table(
    frame: pd.DataFrame,
    labels: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    formats: dict[str, str] | None = None,
) -> None:
    """``frame`` as a PI reads it; ``formats`` by the frame's own column names (floats default to 3 decimals).

    The grid draws a missing cell as "None" whatever a Styler says, so a column with gaps is shown as
    text, "—" in each gap (right-aligned when it holds numbers or times); a full column keeps its type.
    """
    shown = readable(frame, labels, headers)
    styles, config = {}, {}
    for old, new in zip(frame.columns, shown.columns, strict=True):
        column, format_ = frame[old], _formatter(frame[old], (formats or {}).get(old))
        if column.isna().any():
            shown[new] = [NOTHING if pd.isna(v) else format_(v) if format_ else str(v) for v in column]
            if format_ is not None or pd.api.types.is_numeric_dtype(column):
                config[new] = st.column_config.TextColumn(alignment="right")
        elif format_ is not None:
            styles[new] = format_
    st.dataframe(shown.style.format(styles), hide_index=True, width="stretch", column_config=config)


def next_steps(steps: list[str], nothing: str = "Nothing waiting.") -> None:
    """What the PI should do next on this page, or that nothing waits."""
    if steps:
        st.warning("**What to do next**\n\n" + "\n".join(f"- {step}" for step in steps))
    else:
        st.success(f"**What to do next:** {nothing}")


def legends(lines: list[str]) -> None:
    """What the interpretation words mean, one scheme a line with its reference."""
    st.caption("**Interpretation words**\n" + "\n".join(f"- {line}" for line in lines))
