"""For the PI: treatment fidelity from the coded sample of session audio."""

import plotly.graph_objects as go
import streamlit as st

from coding_app.fidelity import fidelity_report, fidelity_scores
from coding_app.web import runtime
from coding_app.web.identity import require
from coding_app.web.reports import pi_report

identity = require("pi")
st.title("Treatment fidelity")
# The scores are computed once per change to the study; the key is read (and audited) on every view.
data = fidelity_report(runtime.store(), identity.account, pi_report("fidelity", fidelity_scores, identity.account))
formats = {"sampled_fraction": st.column_config.NumberColumn(format="percent"),
           "acceptable_share": st.column_config.NumberColumn(format="percent"),
           "mean_adherence": st.column_config.NumberColumn(format="%.2f")}  # fmt: skip
if data.threshold is not None:
    st.caption(f"Adherence on {data.scale}; acceptable fidelity is {data.threshold:g} or more.")
st.subheader("By clinician")
st.dataframe(data.by_clinician, hide_index=True, width="stretch", column_config=formats)
coded = data.by_clinician.dropna(subset=["mean_adherence"])
if not coded.empty:
    figure = go.Figure(go.Bar(x=coded["clinician"], y=coded["mean_adherence"], text=coded["coded"],
                              texttemplate="%{y:.2f} (n=%{text})"))  # fmt: skip
    if data.threshold is not None:
        figure.add_hline(y=data.threshold, line=dict(color="#c0392b", dash="dash"), annotation_text="acceptable")
    figure.update_layout(template="plotly_white", height=320, yaxis_title="mean adherence", margin=dict(t=30))
    st.plotly_chart(figure)
st.subheader("By session number")
st.dataframe(data.by_session, hide_index=True, width="stretch", column_config=formats)
st.subheader("Sampling draws")
st.dataframe(data.draws, hide_index=True, width="stretch")
