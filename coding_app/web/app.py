"""The Streamlit entry script: identity, then the pages this account's role may see."""

from pathlib import Path

import streamlit as st

from coding_app.store import StoreUnavailable
from coding_app.web.identity import ROLE_NAMES, current, sign_in_prompt
from coding_app.web.routes import sign_out_form, sign_out_token

PAGES = Path(__file__).with_name("pages")
SIGN_OUT_STYLE = ("<style>.obscode-sign-out button { font: inherit; padding: .35rem .9rem; cursor: pointer; "
                  "background: #fff; border: 1px solid #c9ced8; border-radius: 8px; }</style>")  # fmt: skip

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
    sign_in_prompt("You are not signed in, or your session has ended.")
    st.stop()

account = identity.account
# Every page is routed for every role, and only the account's own are listed: a page of another
# role, opened by its URL, runs and refuses (and audits) itself rather than falling back silently.
PAGES_BY_ROLE = {
    "coder": [("queue.py", "My queue", "queue"), ("code.py", "Code a recording", "code")],
    "pi": [("agreement.py", "Agreement", "agreement"), ("progress.py", "Coding progress", "progress"),
           ("certification.py", "Coder certification", "certification"), ("fidelity.py", "Treatment fidelity", "fidelity"),
           ("outcomes.py", "Outcomes", "outcomes")],
}  # fmt: skip
mine = "pi" if account.role == "pi" else "coder"
pages = [
    st.Page(PAGES / script, title=title, url_path=url, default=role == mine and index == 0,
            visibility="visible" if role == mine else "hidden")
    for role, listed in PAGES_BY_ROLE.items()
    for index, (script, title, url) in enumerate(listed)
]  # fmt: skip

with st.sidebar:
    st.markdown(f"Signed in as **{account.name}**  \n{ROLE_NAMES[account.role]}")
    st.html(SIGN_OUT_STYLE + sign_out_form(sign_out_token(identity)))
st.navigation(pages).run()
