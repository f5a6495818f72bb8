"""PI reports for the pages, computed once per change to the study and shared by the PIs.

Nothing cached here may read the unblinding key: a read of the key is audited in the name of
the PI who reads it, on every read, so it happens outside the cache (see fidelity_report).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from ..changes import study_version
from ..store import Store
from ..store.models import Account
from . import runtime

Report = TypeVar("Report")


@st.cache_data(max_entries=16, show_spinner="Computing...")
def _cached(name: str, version: int, _build: Callable[[Store, Account], Report], _pi: Account) -> Report:
    """Keyed by report name and study version; Streamlit does not hash the underscore arguments."""
    return _build(runtime.store(), _pi)


def pi_report(name: str, build: Callable[[Store, Account], Report], pi: Account) -> Report:
    """``build(store, pi)``, recomputed only when the study changes (see :mod:`coding_app.changes`)."""
    return _cached(name, study_version(runtime.store()), build, pi)
