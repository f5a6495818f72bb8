"""Who is looking at a page: from the session cookie only, checked again on every page."""

from __future__ import annotations

import inspect
from pathlib import Path

import streamlit as st

from .. import audit
from ..logins import Identity, identify, institution_ticket
from ..store import StoreUnavailable
from . import runtime
from .runtime import COOKIE, LOGIN_PATH, SESSION_PATH

ROLE_NAMES = {"coder": "EA rater", "fidelity": "fidelity coder", "pi": "principal investigator"}


CHECKED = "checked-identity"
"""Session-state key: the identity this browser session's cookie was last checked to be."""


def current() -> Identity | None:
    """The signed-in account, from the HttpOnly session cookie (never from the URL or widgets).

    While the database cannot be reached, the identity this same browser session was last
    checked to be stands in, so that the coding page can keep what the coder types; with none,
    :class:`~coding_app.store.StoreUnavailable` propagates.
    """
    try:
        identity = identify(runtime.store(), st.context.cookies.get(COOKIE))
    except StoreUnavailable:
        if st.session_state.get(CHECKED) is None:
            raise
        return st.session_state[CHECKED]
    st.session_state[CHECKED] = identity
    return identity


_go_to = st.components.v2.component(
    "obscode_go_to", js="export default function ({ data }) { window.location.replace(data); }"
)


def institution_sign_in_configured() -> bool:
    """A study turns on institution (OIDC) sign-in with an [auth] section in Streamlit's secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def sign_in_prompt(message: str) -> None:
    st.info(message)
    if institution_sign_in_configured():
        if st.user.is_logged_in:
            _continue_institution_sign_in()
            return
        st.button("Sign in with your institution", on_click=st.login, type="primary")
    st.markdown(f'<a href="{LOGIN_PATH}" target="_self">Sign in with an obscode account</a>', unsafe_allow_html=True)


def _continue_institution_sign_in() -> None:
    """Turn the identity provider's verified email into an obscode session (once per browser tab)."""
    # A provider that lets users type their own email says so with email_verified = false: such an
    # email could name a coder's account. One that says nothing (many institutions') is taken at its word.
    if st.user.get("email_verified") is False:
        if not st.session_state.get("institution_unverified"):
            st.session_state["institution_unverified"] = True
            audit.refused(
                runtime.store(),
                "anonymous",
                "refused.institution_sign_in",
                "account",
                None,
                reason="the provider has not verified the email",
            )
        st.error(
            "Your institution has not verified your email address, so obscode cannot sign you in with it. "
            "Ask your IT team or the PI."
        )
        st.button("Sign out of your institution", on_click=st.logout)
        return
    if "institution_ticket" not in st.session_state:
        st.session_state["institution_ticket"] = institution_ticket(runtime.store(), str(st.user.get("email") or ""))
    ticket = st.session_state["institution_ticket"]
    if ticket is None:
        st.error("Your institution account has no obscode account in this study. Ask the PI to add you.")
        st.button("Sign out of your institution", on_click=st.logout)
        return
    url = f"{SESSION_PATH}?ticket={ticket}"
    st.markdown(f'<a href="{url}" target="_self">Continue to obscode</a>', unsafe_allow_html=True)
    _go_to(data=url, key="go-to-session")


def require(*roles: str) -> Identity:
    """The current identity if it has one of ``roles``; otherwise show why and stop the page.

    A signed-in account on a page not for its role is refused and audited once per page run.
    """
    identity = current()
    if identity is None:
        sign_in_prompt("Your session has ended. Sign in again to carry on: your saved work is kept.")
        st.stop()
    if not identity.account.has_role(*roles):
        audit.refused(
            runtime.store(),
            identity.account.name,
            "refused.page",
            "page",
            _calling_page(),
            reason=f"needs the {' or '.join(roles)} role",
        )
        st.error("This page is not available to your account.")
        st.stop()
    return identity


def _calling_page() -> str:
    """The page script that called :func:`require` (pages name no page of their own)."""
    return Path(inspect.stack(context=0)[2].filename).stem
