"""Who is looking at a page: from the session cookie only, checked again on every page."""

from __future__ import annotations

import streamlit as st

from ..sessions import Identity, identify
from . import runtime
from .runtime import COOKIE, LOGIN_PATH

ROLE_NAMES = {"coder": "EA rater", "fidelity": "fidelity coder", "pi": "principal investigator"}


def current() -> Identity | None:
    """The signed-in account, from the HttpOnly session cookie (never from the URL or widgets)."""
    return identify(runtime.store(), st.context.cookies.get(COOKIE))


def sign_in_prompt(message: str) -> None:
    st.info(message)
    st.markdown(f'<a href="{LOGIN_PATH}" target="_self">Sign in</a>', unsafe_allow_html=True)


def require(*roles: str) -> Identity:
    """The current identity if it has one of ``roles``; otherwise show why and stop the page."""
    identity = current()
    if identity is None:
        sign_in_prompt("Your session has ended. Sign in again to carry on: your saved work is kept.")
        st.stop()
    if identity.account.role not in roles:
        st.error("This page is not available to your account.")
        st.stop()
    return identity
