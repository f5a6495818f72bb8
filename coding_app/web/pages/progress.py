"""For the PI: how far every coder has got on every scale, and what cannot be coded."""

import streamlit as st

from coding_app.progress import coder_progress, missing_media
from coding_app.web import runtime
from coding_app.web.identity import require

identity = require("pi")
st.title("Coding progress")
table = coder_progress(runtime.store(), identity.account)
if table.empty:
    st.info("No recordings have been assigned yet.")
else:
    st.dataframe(table, hide_index=True, width="stretch")
missing = missing_media(runtime.store(), identity.account, runtime.media())
if missing.empty:
    st.success("Every assigned recording's media file is in place.")
else:
    st.error(f"{len(missing)} assigned recording{'s' if len(missing) != 1 else ''} cannot be coded: the media file is missing.")
    st.dataframe(missing, hide_index=True, width="stretch")
