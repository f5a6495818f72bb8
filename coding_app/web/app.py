"""The Streamlit entry script: identity, then the pages this account's roles may see."""

from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import streamlit as st

from coding_app.store import StoreUnavailable
from coding_app.web.identity import ROLE_NAMES, current, sign_in_prompt
from coding_app.web.routes import sign_out_form, sign_out_token

PAGES = Path(__file__).with_name("views")
SIGN_OUT_STYLE = (
    "<style>.obscode-sign-out button { font: inherit; padding: .35rem .9rem; cursor: pointer; "
    "background: #fff; border: 1px solid #c9ced8; border-radius: 8px; }</style>"
)
# Every page is routed for every role, and only the account's own are listed: a page of another
# role, opened by its URL, runs and refuses (and audits) itself rather than falling back silently.
PAGES_BY_ROLE = {
    "coder": [("queue.py", "My queue", "queue"), ("code.py", "Code a recording", "code")],
    "pi": [
        ("agreement.py", "Agreement", "agreement"),
        ("progress.py", "Coding progress", "progress"),
        ("certification.py", "Coder certification", "certification"),
        ("fidelity.py", "Treatment fidelity", "fidelity"),
        ("outcomes.py", "Outcomes", "outcomes"),
    ],
}
PASSWORD = ("password.py", "Change my password", "password")
ADDRESSES = [url for listed in PAGES_BY_ROLE.values() for _, _, url in listed] + [PASSWORD[2]]


def _signed_out() -> None:
    sign_in_prompt("You are not signed in, or your session has ended.")


def _only(page: Path | Callable[[], None], title: str) -> NoReturn:
    """Run ``page`` whatever the address (a bookmarked /queue too), with no page list in the sidebar."""
    st.navigation(
        [st.Page(page, title=title, url_path=url, default=url == "home") for url in ["home", *ADDRESSES]],
        position="hidden",
    ).run()
    st.stop()


st.set_page_config(page_title="obscode", layout="wide")
try:
    identity = current()
except StoreUnavailable:
    st.title("obscode")
    st.error("The study database cannot be reached just now. Try again in a moment; saved work is kept.")
    st.button("Try again")
    st.stop()
if identity is None:
    st.title("obscode")
    _only(_signed_out, "Sign in")

account = identity.account
with st.sidebar:
    st.markdown(
        f"Signed in as **{account.name}**  \n{' and '.join(ROLE_NAMES[role] for role in sorted(account.roles))}"
    )
    st.html(SIGN_OUT_STYLE + sign_out_form(sign_out_token(identity)))
if account.must_change_password:
    _only(PAGES / PASSWORD[0], "Choose a new password")

mine = "pi" if account.has_role("pi") else "coder"
pages = {
    role: [
        st.Page(PAGES / script, title=title, url_path=url, visibility="visible" if role == mine else "hidden")
        for script, title, url in listed
    ]
    for role, listed in PAGES_BY_ROLE.items()
}
first = pages[mine][0]
# The root address opens the account's first page at its own address (/ and /queue are the same queue), and
# passes on what the address asked for.
home = st.Page(
    lambda: st.switch_page(first, query_params=st.query_params.to_dict()),
    title=first.title,
    url_path="home",
    default=True,
    visibility="hidden",
)
st.navigation(
    {
        "": [home, *pages["coder"], *pages["pi"]],
        "Your account": [st.Page(PAGES / PASSWORD[0], title=PASSWORD[1], url_path=PASSWORD[2])],
    }
).run()
