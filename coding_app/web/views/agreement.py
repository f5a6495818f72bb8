"""For the PI: agreement on the double-coded recordings, as numbers and as pictures."""

from functools import partial

import pandas as pd
import streamlit as st

from coding_app import charts
from coding_app.changes import study_version
from coding_app.codebook import ScaleDefinition
from coding_app.coder_agreement import (
    agreement_over_time,
    agreement_report,
    methods_paragraph,
    pair_scores,
    pair_statistics,
)
from coding_app.consensus import consensus_ratings, record_consensus
from coding_app.errors import NotFound
from coding_app.interpretation import legend, legends, statistic_groups
from coding_app.lock import lock_report
from coding_app.next_steps import agreement_steps, closed_scales
from coding_app.reliability_report import (
    alpha_table,
    disagreement_list,
    file_names,
    report_html,
    report_tables,
    tables_csv_zip,
    tables_xlsx,
)
from coding_app.web import pi_view, runtime
from coding_app.web.identity import require
from coding_app.web.report_cache import pi_report
from reliability import KRIPPENDORFF, band

WINDOW = 8
SAVED = "consensus-saved"


def consensus_form(apart: pd.DataFrame, definition: ScaleDefinition) -> None:
    """The PI's consensus score for one listed recording: the scale named, a choice among its grid's
    levels (none chosen to start, the coders' own scores marked), and the save confirmed."""
    if SAVED in st.session_state:
        st.success(st.session_state.pop(SAVED))
    st.markdown(f"**Record a consensus rating on {definition.label}** (kept apart from the coders' ratings; audited)")
    code = st.selectbox("Recording", list(apart["code"]), key="consensus-recording")
    listed = apart[apart["code"] == code].iloc[0]
    given: dict[float, list[str]] = {}
    for coder, score in ((listed["coder_a"], listed["a"]), (listed["coder_b"], listed["b"])):
        given.setdefault(float(score), []).append(coder)
    scale = definition.scale
    with st.form("consensus", clear_on_submit=True):
        score = st.selectbox(
            f"Consensus score on {definition.label}",
            [float(x) for x in scale.levels],
            index=None,
            placeholder=f"Choose a score: {scale.low:g} to {scale.high:g} by {scale.step:g}",
            format_func=lambda x: f"{x:g}" + (f"  (given by {' and '.join(given[x])})" if x in given else ""),
        )
        reason = st.text_area("Reason", placeholder="e.g. reviewed together; the second half of the session decides it")
        if st.form_submit_button("Record consensus"):
            if score is None:
                st.error("Choose the consensus score.")
            elif not reason.strip():
                st.error("Give the reason for the consensus score.")
            else:
                try:
                    version = record_consensus(runtime.store(), identity.account, code, definition.key, score, reason)
                except (ValueError, NotFound) as error:  # coding of the scale locked, or the recording gone
                    st.error(f"Not saved: {error}")
                else:
                    st.session_state[SAVED] = f"Consensus for {code}, {definition.label}: {score:g} saved" + (
                        f" (revision {version})." if version > 1 else "."
                    )
                    st.rerun()


identity = require("pi")
st.title("Agreement")
# Each pair's alpha interval is a bootstrap of its own: computed for the pair shown, when it is shown.
data = pi_report("agreement", partial(agreement_report, pair_intervals=False), identity.account)
if data.pairs.empty:
    st.info("No recording has been scored by two coders yet.")
    st.stop()

labels = {key: definition.label for key, definition in data.codebook.scales.items()}
consensus = consensus_ratings(runtime.store(), identity.account)
closed = closed_scales(data, lock_report(runtime.store(), identity.account))
pi_view.next_steps(
    agreement_steps(data, consensus, closed),
    "Nothing waiting: no disagreement waits for a consensus rating and every scale's alpha is 0.80 or more.",
)
st.markdown("**For the methods section:** " + methods_paragraph(data, "recordings"))
if not data.alphas.empty:
    st.subheader("All coders together")
    pi_view.table(alpha_table(data), labels)
    pi_view.legends([legend(KRIPPENDORFF)])

st.subheader("One pair of coders")
scales = list(dict.fromkeys(data.pairs["subscale"]))
scale_key = st.selectbox("Scale", scales, format_func=labels.__getitem__)
pairs = data.pairs[data.pairs["subscale"] == scale_key]
pair_labels = [f"{a} and {b}" for a, b in zip(pairs["coder_a"], pairs["coder_b"], strict=True)]
chosen = pairs.iloc[pair_labels.index(st.selectbox("Coders", pair_labels))]
row = pi_report(
    f"agreement {scale_key} {chosen['coder_a']} {chosen['coder_b']}",
    lambda _store, _pi: pair_statistics(data, scale_key, chosen["coder_a"], chosen["coder_b"]),
    identity.account,
)
definition = data.codebook[scale_key]
st.caption(f"n = {row['n']} recordings scored by both; {row['n_unpaired']} by only one. {row['notes']}")
groups = statistic_groups(definition.scale)
for group in groups:
    st.markdown(f"**{group.title}**")
    shown = pd.DataFrame(
        [
            {
                "statistic": label,
                "estimate": row[key],
                "95% CI low": row[f"{key}_ci_low"],
                "95% CI high": row[f"{key}_ci_high"],
                "interpretation": band(row[key], bands) if bands else None,
            }
            for key, label, bands in group.statistics
        ]
    )
    pi_view.table(shown)
pi_view.legends(legends(groups))

scores = pair_scores(data, scale_key, row["coder_a"], row["coder_b"])
tabs = st.tabs(["Confusion matrix", "Scatter", "Bland-Altman", "Over time", "Disagreements"])
if len(scores) < 2:
    for tab in tabs[:4]:
        tab.info("The pictures appear once this pair has scored two recordings in common.")
else:
    tabs[0].plotly_chart(charts.confusion_heatmap(scores, definition.scale, row["coder_a"], row["coder_b"]))
    tabs[1].plotly_chart(charts.scatter(scores, definition.scale, row["coder_a"], row["coder_b"]))
    if definition.scale.threshold is not None:
        tabs[1].caption(
            "A point past the dashed class boundary on one axis and not the other is a recording the "
            "two coders put in different classes."
        )
    tabs[2].plotly_chart(charts.bland_altman(scores, row["coder_a"], row["coder_b"]))
    tabs[3].plotly_chart(charts.over_time(agreement_over_time(scores, WINDOW), WINDOW))
listed = disagreement_list(data, consensus)
apart = listed[
    (listed["scale"] == scale_key) & (listed["coder_a"] == row["coder_a"]) & (listed["coder_b"] == row["coder_b"])
]
with tabs[4]:
    if apart.empty:
        st.success("No recording is more than a point apart or on opposite sides of the threshold.")
    else:
        waiting = int(apart["consensus"].isna().sum())
        st.caption(f"{len(apart)} recordings listed, {waiting} waiting for a consensus rating.")
        pi_view.table(
            apart.drop(columns=["scale", "coder_a", "coder_b"]),
            headers={"a": row["coder_a"], "b": row["coder_b"], "reason": "why listed"},
            formats={"a": "{:g}", "b": "{:g}", "consensus": "{:g}"},
        )
        if scale_key in closed:
            st.info(
                "Coding of this scale is locked: no consensus rating can be recorded now, and the codebook's "
                "analysis rule decides which score counts (`obscode unlock` reopens it, with a reason)."
            )
        else:
            consensus_form(apart, definition)

st.subheader("Download the report")
st.caption("A standalone HTML report with every figure, and the tables for analysis; named by date only.")
PREPARED = "agreement-report-files"
# Each step named as it runs: every pair's bootstrap is the long one, and a bare spinner says nothing of it.
STEPS = (
    "Bootstrapping every coder pair's agreement intervals",
    "Drawing the figures into the HTML report",
    "Writing the tables (Excel)",
    "Writing the tables (CSV, zipped)",
)


def _prepare() -> dict[str, str | bytes]:
    """The report with every pair's intervals and both tables, each step shown in a status box as it starts."""
    with st.status("Preparing the report and tables", expanded=True) as status:
        steps = iter(enumerate(STEPS, 1))

        def next_step() -> None:
            number, name = next(steps)
            status.update(label=f"Step {number} of {len(STEPS)}: {name}", expanded=True)  # None would fold it
            st.write(f"{name}...")

        next_step()
        report = agreement_report(runtime.store(), identity.account)
        tables = report_tables(report, consensus)
        next_step()
        html = report_html(report, consensus)
        next_step()
        xlsx = tables_xlsx(tables)
        next_step()
        csv = tables_csv_zip(tables)
        status.update(label="The report and tables are ready to download", state="complete", expanded=False)
    return {"html": html, "xlsx": xlsx, "csv": csv}


version = study_version(runtime.store())
prepared = st.session_state.get(PREPARED)
if prepared is None or prepared[0] != version:
    if prepared is not None:
        st.caption("The study has changed since the report was prepared: prepare it again.")
    offer = st.empty()
    if offer.button("Prepare the report and tables"):
        with offer.container():  # the status box takes the button's place while it runs
            prepared = st.session_state[PREPARED] = (version, _prepare())
if prepared is not None and prepared[0] == version:
    names, files = file_names(), prepared[1]
    columns = st.columns(3)
    for column, (label, kind, mime) in zip(
        columns,
        (
            ("Reliability report (HTML)", "html", "text/html"),
            ("Tables (Excel)", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            ("Tables (CSV, zipped)", "csv", "application/zip"),
        ),
        strict=True,
    ):
        column.download_button(label, files[kind], file_name=names[kind], mime=mime, on_click="ignore")
