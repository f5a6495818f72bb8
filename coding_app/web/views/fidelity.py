"""For the PI: treatment fidelity from the coded sample of session audio."""

import streamlit as st

from coding_app import charts
from coding_app.fidelity import fidelity_report, fidelity_scores
from coding_app.next_steps import fidelity_steps
from coding_app.web import pi_view, runtime
from coding_app.web.identity import require
from coding_app.web.report_cache import pi_report

identity = require("pi")
st.title("Treatment fidelity")
# The scores are computed once per change to the study; the key is read (and audited) on every view.
data = fidelity_report(runtime.store(), identity.account, pi_report("fidelity", fidelity_scores, identity.account))
formats = {"sampled_fraction": "{:.0%}", "acceptable_share": "{:.0%}", "mean_adherence": "{:.2f}"}
pi_view.next_steps(
    fidelity_steps(data), "Nothing waiting: every sampled session is coded, and each at acceptable fidelity."
)
grid = data.grid
st.caption(
    f"Adherence on {data.label}, {grid.low:g} to {grid.high:g}"
    + (f"; acceptable fidelity is {data.threshold:g} or more." if data.threshold is not None else ".")
)
st.subheader("By clinician")
pi_view.table(data.by_clinician, formats=formats)
coded = data.by_clinician.dropna(subset=["mean_adherence"])
if not coded.empty:
    st.plotly_chart(charts.fidelity_by_clinician(coded, grid, data.threshold))
st.subheader("By session number")
pi_view.table(data.by_session, formats=formats)
st.subheader("Sampling draws")
pi_view.table(data.draws, formats={"fraction": "{:.0%}"})
