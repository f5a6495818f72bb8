"""For the PI: the trial's outcomes by arm, once coding is locked (or for an interim look, with its reason); every
view audited."""

from functools import partial

import streamlit as st

from coding_app.analysis import CodingOpen
from coding_app.interpretation import header
from coding_app.lock import lock_report
from coding_app.next_steps import outcome_steps
from coding_app.outcome_report import (
    DATASET_FORMATS,
    MIME,
    change_figure,
    dataset_file,
    file_names,
    outcome_report,
    report_html,
    report_tables,
    results_paragraph,
    share_figure,
    tables_csv_zip,
    tables_xlsx,
)
from coding_app.web import pi_view, runtime
from coding_app.web.identity import require

INTERIM = "outcomes-interim"

identity = require("pi")
st.title("Outcomes")
store = runtime.store()
try:
    # Read (and audited in this PI's name) on every view: nothing unblinded is cached.
    report = outcome_report(store, identity.account, st.session_state.get(INTERIM))
except CodingOpen:
    st.info(
        "Outcomes are unblinded once coding is locked: `obscode --as NAME lock` (the whole study) or "
        "`obscode --as NAME lock --scale KEY`. Until then the allocation stays hidden."
    )
    history = lock_report(store, identity.account)
    if not history.empty:
        pi_view.table(history)
    with st.form("interim"):
        reason = st.text_input(
            "An interim look before lock (e.g. for the data monitoring committee): the reason, kept in the audit log"
        )
        if st.form_submit_button("Unblind for an interim look") and reason.strip():
            st.session_state[INTERIM] = reason.strip()
            st.rerun()
    st.stop()
except ValueError as error:  # the codebook does not say which arm is the control, or which timepoint the baseline
    st.error(str(error))
    st.stop()

data, tables = report.dataset, report.tables
labels = {key: definition.label for key, definition in data.scales.items()}
if data.interim:
    st.warning(f"Interim look before lock: {data.interim}")
pi_view.next_steps(
    outcome_steps(report),
    "Nothing waiting: coding is locked and every recording counts; these are the numbers to report (downloads below).",
)
st.markdown("**Results:** " + results_paragraph(report))
st.subheader(f"Outcomes by arm: {tables.treatment} against {tables.control}")
pi_view.table(report.published, labels)
scales = list(dict.fromkeys(tables.rows["subscale"]))
for tab, scale in zip(st.tabs([labels[s] for s in scales]), scales, strict=True):
    tab.plotly_chart(share_figure(report, scale))
    tab.plotly_chart(change_figure(report, scale))
st.subheader("Follow-up: participants seen, of those randomised")
percent = {c: "{:.1%}" for c in ("rate", "ci_low", "ci_high")}
pi_view.table(tables.follow_up, headers={"n": "seen", "of": "randomised", "rate": "share seen"}, formats=percent)
st.subheader("Not counted")
if data.listed.empty:
    st.caption("Every recording counts.")
else:
    pi_view.table(data.listed, labels)
# "treatment" and "control" in the numbers' headers are the study's arms
arms = {
    c: header(c).replace("treatment", tables.treatment).replace("control", tables.control) for c in tables.rows.columns
}
with st.expander("Every number"):
    pi_view.table(tables.rows, labels, arms)
    for note in tables.notes:
        st.caption(note)
with st.expander("Complete cases (participants scored at every timepoint)"):
    pi_view.table(report.complete_case.rows, labels, arms)
with st.expander("Database lock"):
    pi_view.table(report.locks, labels)

st.subheader("Downloads")
names = file_names(report)
columns = st.columns(3)
columns[0].download_button(
    "Outcomes report (HTML)", lambda: report_html(report), file_name=names["html"], mime="text/html", on_click="ignore"
)
columns[1].download_button(
    "Tables (Excel)",
    lambda: tables_xlsx(report_tables(report)),
    file_name=names["xlsx"],
    mime=MIME["xlsx"],
    on_click="ignore",
)
columns[2].download_button(
    "Tables (CSV, zipped)",
    lambda: tables_csv_zip(report_tables(report)),
    file_name=names["csv"],
    mime="application/zip",
    on_click="ignore",
)
st.caption("The analysis dataset: one row per participant, timepoint and scale (SPSS and Stata with value labels).")
for column, fmt in zip(st.columns(len(DATASET_FORMATS)), DATASET_FORMATS, strict=True):
    column.download_button(
        f"Dataset ({fmt.upper()})",
        partial(dataset_file, report, fmt),
        file_name=names[f"dataset_{fmt}"],
        mime=MIME[fmt],
        on_click="ignore",
    )
