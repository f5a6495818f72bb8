"""For the PI: agreement on the double-coded recordings, as numbers and as pictures."""

import pandas as pd
import streamlit as st

from coding_app.agreement import (
    SHOWN_STATISTICS, agreement_over_time, agreement_report, disagreements, methods_paragraph, pair_scores,
)  # fmt: skip
from coding_app.web import charts
from coding_app.web.identity import require
from coding_app.web.reports import pi_report
from reliability import band

WINDOW = 8

identity = require("pi")
st.title("Agreement")
data = pi_report("agreement", agreement_report, identity.account)
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
row = pairs.iloc[pair_labels.index(st.selectbox("Coders", pair_labels))]
definition = data.codebook[scale_key]
settings = {"within": 1.0, "threshold": f"{definition.scale.threshold:g}" if definition.scale.threshold else "", "level": "ordinal"}
shown = [
    {"statistic": label.format(**settings), "estimate": row[key], "95% CI low": row[f"{key}_ci_low"],
     "95% CI high": row[f"{key}_ci_high"], "interpretation": band(row[key], bands) if bands else ""}
    for key, label, bands in SHOWN_STATISTICS
    if not (key.startswith("class_") and definition.scale.threshold is None)
]  # fmt: skip
st.caption(f"n = {row['n']} recordings scored by both; {row['n_unpaired']} by only one. {row['notes']}")
st.dataframe(pd.DataFrame(shown), hide_index=True, width="stretch",
             column_config={c: st.column_config.NumberColumn(format="%.3f") for c in ("estimate", "95% CI low", "95% CI high")})  # fmt: skip

scores = pair_scores(data, scale_key, row["coder_a"], row["coder_b"])
tabs = st.tabs(["Confusion matrix", "Scatter", "Bland-Altman", "Over time", "Disagreements"])
tabs[0].plotly_chart(charts.confusion_heatmap(scores, definition.scale, row["coder_a"], row["coder_b"]))
tabs[1].plotly_chart(charts.scatter(scores, definition.scale, row["coder_a"], row["coder_b"]))
tabs[2].plotly_chart(charts.bland_altman(scores, row["coder_a"], row["coder_b"]))
tabs[3].plotly_chart(charts.over_time(agreement_over_time(scores, WINDOW), WINDOW))
apart = disagreements(data, scale_key, row["coder_a"], row["coder_b"])
if apart.empty:
    tabs[4].success("No recording is more than a point apart or on opposite sides of the threshold.")
else:
    tabs[4].dataframe(apart.rename(columns={"a": row["coder_a"], "b": row["coder_b"]}), hide_index=True, width="stretch")
