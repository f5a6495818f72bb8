"""For the PI: each coder's agreement with the master codes of the training set, and who is certified."""

import streamlit as st

from coding_app import charts
from coding_app.certification_report import certification_history, certification_status
from coding_app.interpretation import statistic_label
from coding_app.next_steps import certification_steps
from coding_app.web import pi_view, runtime
from coding_app.web.identity import require

identity = require("pi")
st.title("Coder certification")
status = certification_status(runtime.store(), identity.account)
table = status.table
if table.empty:
    st.info(
        "No scale has a training set yet. Set master codes with `obscode training import FILE`, then "
        "assign the training recordings with `obscode assign CODER --recordings training`."
    )
    st.stop()

rule = status.rule
measure = statistic_label(rule.statistic)
pi_view.next_steps(
    certification_steps(status), "Nothing waiting: every coder is certified on every scale with a training set."
)
st.caption(
    f"Rule: {measure} with the master codes of at least {rule.threshold:g}, over at least "
    f"{rule.min_recordings} training recordings. A coder may be given live recordings on a scale once certified "
    "on it. Certification is granted once, with the figures of that moment, and kept."
)
pi_view.table(table, status.labels, {rule.statistic: measure})

st.subheader("History")
left, right = st.columns(2)
coder = left.selectbox("Coder", list(dict.fromkeys(table["coder"])))
scale = right.selectbox(
    "Scale", list(table.loc[table["coder"] == coder, "scale"]), format_func=status.labels.__getitem__
)
history = certification_history(runtime.store(), identity.account, coder, scale)
if history.empty:
    st.info(f"{coder} has not submitted a training recording on this scale yet.")
else:
    st.plotly_chart(charts.certification_history(history, coder, rule))
    pi_view.table(history, headers={"value": measure})
