"""The Streamlit entry script: identity, then the pages this account's role may see."""

from pathlib import Path

import streamlit as st

from coding_app.web.identity import ROLE_NAMES, current, sign_in_prompt
from coding_app.web.runtime import LOGOUT_PATH

PAGES = Path(__file__).with_name("pages")

st.set_page_config(page_title="obscode", layout="wide")
identity = current()
if identity is None:
    st.title("obscode")
    sign_in_prompt("You are not signed in, or your session has ended.")
    st.stop()

account = identity.account
if account.role in ("coder", "fidelity"):
    pages = [
        st.Page(PAGES / "queue.py", title="My queue", url_path="queue", default=True),
        st.Page(PAGES / "code.py", title="Code a recording", url_path="code"),
    ]
else:
    pages = [
        st.Page(PAGES / "agreement.py", title="Agreement", url_path="agreement", default=True),
        st.Page(PAGES / "progress.py", title="Coding progress", url_path="progress"),
        st.Page(PAGES / "certification.py", title="Coder certification", url_path="certification"),
        st.Page(PAGES / "fidelity.py", title="Treatment fidelity", url_path="fidelity"),
    ]

with st.sidebar:
    st.markdown(f"Signed in as **{account.name}**  \n{ROLE_NAMES[account.role]}")
    st.markdown(f'<a href="{LOGOUT_PATH}" target="_self">Sign out</a>', unsafe_allow_html=True)
st.navigation(pages).run()
