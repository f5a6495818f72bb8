"""For the PI: how far every coder has got on every scale."""

import streamlit as st

from coding_app.progress import coder_progress
from coding_app.web import runtime
from coding_app.web.identity import require

identity = require("pi")
st.title("Coding progress")
table = coder_progress(runtime.store(), identity.account)
if table.empty:
    st.info("No recordings have been assigned yet.")
else:
    st.dataframe(table, hide_index=True, width="stretch")
