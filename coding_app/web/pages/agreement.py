"""For the PI: agreement on the double-coded recordings, as numbers and as pictures."""

from functools import partial

import pandas as pd
import streamlit as st

from coding_app import charts
from coding_app.agreement import (
    SHOWN_STATISTICS, agreement_over_time, agreement_report, disagreements, methods_paragraph, pair_scores,
    pair_statistics, shown_statistics,
)  # fmt: skip
from coding_app.consensus import consensus_ratings, record_consensus
from coding_app.reliability_report import file_names, report_html, report_tables, tables_csv_zip, tables_xlsx
from coding_app.web import runtime
from coding_app.web.identity import require
from coding_app.web.reports import pi_report
from reliability import band

WINDOW = 8

identity = require("pi")
st.title("Agreement")
# Each pair's alpha interval is a bootstrap of its own: computed for the pair shown, when it is shown.
data = pi_report("agreement", partial(agreement_report, pair_intervals=False), identity.account)
if data.pairs.empty:
    st.info("No recording has been scored by two coders yet.")
    st.stop()

st.markdown("**For the methods section:** " + methods_paragraph(data, "recordings"))
if not data.alphas.empty:
    st.subheader("All coders together")
    alphas = data.alphas.assign(band=[band(a, SHOWN_STATISTICS[-1][2]) for a in data.alphas["alpha"]])
    st.dataframe(alphas, hide_index=True, width="stretch")

st.subheader("One pair of coders")
scales = list(dict.fromkeys(data.pairs["subscale"]))
scale_key = st.selectbox("Scale", scales, format_func=lambda k: data.codebook[k].label)
pairs = data.pairs[data.pairs["subscale"] == scale_key]
pair_labels = [f"{a} and {b}" for a, b in zip(pairs["coder_a"], pairs["coder_b"], strict=True)]
chosen = pairs.iloc[pair_labels.index(st.selectbox("Coders", pair_labels))]
row = pi_report(f"agreement {scale_key} {chosen['coder_a']} {chosen['coder_b']}",
                lambda _store, _pi: pair_statistics(data, scale_key, chosen["coder_a"], chosen["coder_b"]), identity.account)
definition = data.codebook[scale_key]
shown = [
    {"statistic": label, "estimate": row[key], "95% CI low": row[f"{key}_ci_low"],
     "95% CI high": row[f"{key}_ci_high"], "interpretation": band(row[key], bands) if bands else ""}
    for key, label, bands in shown_statistics(definition.scale)
]  # fmt: skip
st.caption(f"n = {row['n']} recordings scored by both; {row['n_unpaired']} by only one. {row['notes']}")
st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("estimate", "95% CI low", "95% CI high")})  # fmt: skip

scores = pair_scores(data, scale_key, row["coder_a"], row["coder_b"])
tabs = st.tabs(["Confusion matrix", "Scatter", "Bland-Altman", "Over time", "Disagreements"])
if len(scores) < 2:
    for tab in tabs[:4]:
        tab.info("The pictures appear once this pair has scored two recordings in common.")
else:
    tabs[0].plotly_chart(charts.confusion_heatmap(scores, definition.scale, row["coder_a"], row["coder_b"]))
    tabs[1].plotly_chart(charts.scatter(scores, definition.scale, row["coder_a"], row["coder_b"]))
    tabs[2].plotly_chart(charts.bland_altman(scores, row["coder_a"], row["coder_b"]))
    tabs[3].plotly_chart(charts.over_time(agreement_over_time(scores, WINDOW), WINDOW))
apart = disagreements(data, scale_key, row["coder_a"], row["coder_b"])
settled = consensus_ratings(runtime.store(), identity.account)
settled = settled[settled["scale"] == scale_key].set_index("code")
with tabs[4]:
    if apart.empty:
        st.success("No recording is more than a point apart or on opposite sides of the threshold.")
    else:
        apart["consensus"] = apart["code"].map(settled["score"])
        apart["consensus reason"] = [settled["reason"].get(code, "") for code in apart["code"]]
        st.dataframe(apart.rename(columns={"a": row["coder_a"], "b": row["coder_b"]}), hide_index=True, width="stretch")
        st.markdown("**Record a consensus rating** (kept apart from the coders' ratings; audited)")
        with st.form("consensus", clear_on_submit=True):
            code = st.selectbox("Recording", list(apart["code"]))
            score = st.select_slider("Consensus score", [float(x) for x in definition.scale.levels], format_func=lambda x: f"{x:g}")
            reason = st.text_area("Reason", placeholder="e.g. reviewed together; the second half of the session decides it")
            if st.form_submit_button("Record consensus"):
                if not reason.strip():
                    st.error("Give the reason for the consensus score.")
                else:
                    version = record_consensus(runtime.store(), identity.account, code, scale_key, score, reason)
                    st.success(f"Consensus for {code} recorded" + (f" (revision {version})." if version > 1 else "."))
                    st.rerun()

st.subheader("Download the report")
st.caption("A standalone HTML report with every figure, and the tables for analysis; named by date only.")
names = file_names()


def _everything():
    """The report with every pair's intervals (made when a download is asked for) and the consensus ratings."""
    return pi_report("agreement with every interval", agreement_report, identity.account), consensus_ratings(runtime.store(), identity.account)


columns = st.columns(3)
columns[0].download_button("Reliability report (HTML)", lambda: report_html(*_everything()), file_name=names["html"],
                           mime="text/html", on_click="ignore")  # fmt: skip
columns[1].download_button("Tables (Excel)", lambda: tables_xlsx(report_tables(*_everything())), file_name=names["xlsx"],
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore")  # fmt: skip
columns[2].download_button("Tables (CSV, zipped)", lambda: tables_csv_zip(report_tables(*_everything())),
                           file_name=names["csv"], mime="application/zip", on_click="ignore")  # fmt: skip
