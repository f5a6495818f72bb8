"""PI reports for the pages, computed once per change to the ratings."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from ..agreement import ratings_version
from ..store import Store
from ..store.models import Account
from . import runtime

Report = TypeVar("Report")


@st.cache_data(max_entries=16, show_spinner="Computing...")
def _cached(name: str, version: tuple, _build: Callable[[Store, Account], Report], _pi: Account) -> Report:
    """Keyed by report name and ratings version; Streamlit does not hash the underscore arguments."""
    return _build(runtime.store(), _pi)


def pi_report(name: str, build: Callable[[Store, Account], Report], pi: Account) -> Report:
    """``build(store, pi)``, recomputed only when a rating is submitted, imported or reopened."""
    return _cached(name, ratings_version(runtime.store()), build, pi)
