"""A coder's queue: their recordings in their own random order, and where to carry on."""

import pandas as pd
import streamlit as st

from coding_app import blinded
from coding_app.store import StoreUnavailable
from coding_app.web import runtime
from coding_app.web.flag_form import say_flagged
from coding_app.web.identity import require
from coding_app.web.outage import KEPT, UNAVAILABLE, save_kept

try:
    identity = require(*blinded.CODER_ROLES)
    save_kept(st.session_state.setdefault(KEPT, {}), runtime.store(), identity.account)
    items = blinded.queue(runtime.store(), identity.account)
    closed = blinded.coding_closed(runtime.store(), identity.account)
except StoreUnavailable:
    st.title("My queue")
    st.error(UNAVAILABLE)
    st.button("Try again")
    st.stop()
done = sum(item.status == "submitted" for item in items)

st.title("My queue")
say_flagged()
if closed:
    st.warning(closed)
if not items:
    st.info("No recordings have been assigned to you yet.")
    st.stop()
st.progress(done / len(items), text=f"{done} of {len(items)} recordings done")
resume = blinded.resume_code(items)
if resume is None:
    st.success("Every recording in your queue is submitted. Thank you!")
elif st.button(f"Continue where I left off: recording {resume}", type="primary"):
    st.switch_page("views/code.py", query_params={"recording": resume})

table = pd.DataFrame(
    [(item.position, item.code, item.kind, item.status) for item in items], columns=["#", "Recording", "Kind", "Status"]
)
picked = st.dataframe(
    table, hide_index=True, on_select="rerun", selection_mode="single-row", width="stretch", key="queue"
)
if picked.selection.rows:
    st.switch_page("views/code.py", query_params={"recording": items[picked.selection.rows[0]].code})
