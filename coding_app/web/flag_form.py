"""The coding page's "Cannot code this recording": a reason from the list and what the coder sees, confirmed in a
dialog; the recording then leaves their queue until the PI decides, and the next one opens."""

from __future__ import annotations

import streamlit as st

from coding_app import blinded
from coding_app.errors import NotFound
from coding_app.flags import REASONS, TEXT_LIMIT, FlagRefused
from coding_app.store import Store, StoreUnavailable
from coding_app.store.models import Account

ASKING = "flag-asking"
"""The recording whose dialog is open: kept so that a rerun of the whole page (a draft saved) shows it again."""
FLAGGED = "flag-flagged"
"""What to tell the coder where they land after flagging."""


def _stop_asking() -> None:
    st.session_state.pop(ASKING, None)


def say_flagged() -> None:
    """Tell the coder, on the page they land on, that the recording they flagged has left their queue."""
    if said := st.session_state.pop(FLAGGED, None):
        st.toast(said)


@st.dialog("Cannot code this recording", on_dismiss=_stop_asking)
def _ask(store: Store, account: Account, code: str, next_code: str | None) -> None:
    st.markdown(
        f"Recording **{code}** leaves your queue until the PI has looked at it. "
        "What you have scored and written so far is kept."
    )
    reason = st.radio("What is wrong?", list(REASONS), format_func=REASONS.get, index=None, key=f"flag-reason-{code}")
    text = st.text_area(
        "What do you see (or not)?",
        max_chars=TEXT_LIMIT,
        key=f"flag-text-{code}",
        placeholder="e.g. the picture freezes after 2 minutes. Please write no names.",
        help=f'Needed for "{REASONS["other"]}"; the PI reads it.',
    )
    with st.container(horizontal=True):
        confirmed = st.button("Take it out of my queue", type="primary", disabled=reason is None)
        st.button("Cancel", on_click=_stop_asking)
    if not confirmed or reason is None:  # the button is disabled until a reason is chosen
        return
    try:
        blinded.flag(store, account, code, reason, text)
    except FlagRefused as refusal:
        st.error(f"Not flagged: {refusal}.")
        return
    except NotFound:  # flagged or excluded meanwhile (another window, the PI)
        st.error("Not flagged: this recording is no longer in your queue.")
        return
    except StoreUnavailable:
        st.error("Not flagged: the study database cannot be reached just now. Try again in a moment.")
        return
    _stop_asking()
    st.session_state[FLAGGED] = f"Recording {code} is out of your queue until the PI decides."
    if next_code:
        st.switch_page("views/code.py", query_params={"recording": next_code})
    st.switch_page("views/queue.py")


def cannot_code(store: Store, account: Account, code: str, next_code: str | None, *, offered: bool) -> None:
    """The control (when ``offered``: not for a submitted recording or while the database is away), and the word on
    a recording just flagged."""
    say_flagged()
    if not offered:
        return
    if st.button(
        "Cannot code this recording",
        type="tertiary",
        icon=":material/flag:",
        key=f"flag-{code}",
        help="No picture, no sound, the wrong recording... Tell the PI and go on to the next one.",
    ):
        st.session_state[ASKING] = code
    if st.session_state.get(ASKING) == code:
        _ask(store, account, code, next_code)
