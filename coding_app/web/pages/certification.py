"""For the PI: each coder's agreement with the master codes of the training set, and who is certified."""

import streamlit as st

from coding_app import charts
from coding_app.certification import certification_history, certification_status
from coding_app.web import runtime
from coding_app.web.identity import require

identity = require("pi")
st.title("Coder certification")
status = certification_status(runtime.store(), identity.account)
table = status.table
if table.empty:
    st.info("No scale has a training set yet. Set master codes with `obscode training import FILE`, then "
            "assign the training recordings with `obscode assign CODER --recordings training`.")  # fmt: skip
    st.stop()

statistic = status.rule.statistic
st.caption(f"Rule: {status.rule.describe()}. "
           "A coder may be given live recordings on a scale once certified on it. Certification is granted once, "
           "with the figures of that moment, and kept.")  # fmt: skip
st.dataframe(table, hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in (statistic, "95% CI low", "95% CI high")})  # fmt: skip

st.subheader("History")
left, right = st.columns(2)
coder = left.selectbox("Coder", list(dict.fromkeys(table["coder"])))
scale = right.selectbox("Scale", list(table.loc[table["coder"] == coder, "scale"]))
history = certification_history(runtime.store(), identity.account, coder, scale)
if history.empty:
    st.info(f"{coder} has not submitted a training recording on this scale yet.")
else:
    st.plotly_chart(charts.certification_history(history, coder, status.rule))
    st.dataframe(history, hide_index=True, width="stretch")
