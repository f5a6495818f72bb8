"""The PI's pictures of agreement (plotly): where coders meet, where they part, and how training goes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reliability import Scale, confusion_matrix

from .codebook import CertificationRule


def _style(figure: go.Figure, title: str) -> go.Figure:
    """Title and size; no template, which costs more than the figure (the page's theme styles it,
    the report names its own)."""
    return figure.update_layout(title=title, height=430, margin=dict(l=60, r=20, t=60, b=50))


def confusion_heatmap(scores: pd.DataFrame, scale: Scale, coder_a: str, coder_b: str) -> go.Figure:
    """Counts on every level of the grid: the diagonal is agreement."""
    table = confusion_matrix(scores["a"], scores["b"], scale)
    labels = [f"{x:g}" for x in scale.levels]
    figure = go.Figure(go.Heatmap(z=table.to_numpy(), x=labels, y=labels, colorscale="Blues",
                                  text=table.to_numpy(), texttemplate="%{text}", hovertemplate=f"{coder_a} %{{y}}, {coder_b} %{{x}}: %{{z}}<extra></extra>"))  # fmt: skip
    figure.update_xaxes(title=coder_b, type="category")
    figure.update_yaxes(title=coder_a, type="category", autorange="reversed")
    return _style(figure, "Confusion matrix on the full scale")


def scatter(scores: pd.DataFrame, scale: Scale, coder_a: str, coder_b: str) -> go.Figure:
    """One point per recording, jittered so that ties show; the threshold drawn on both axes."""
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, size=(2, len(scores))) * scale.step
    figure = go.Figure(go.Scatter(x=scores["a"] + jitter[0], y=scores["b"] + jitter[1], mode="markers",
                                  text=scores["code"], marker=dict(size=9, opacity=0.7),
                                  hovertemplate="%{text}<extra></extra>"))  # fmt: skip
    figure.add_shape(type="line", x0=scale.low, y0=scale.low, x1=scale.high, y1=scale.high, line=dict(dash="dot", color="grey"))
    if scale.threshold is not None:
        figure.add_vline(x=scale.threshold - scale.step / 2, line=dict(color="#c0392b", dash="dash"))
        figure.add_hline(y=scale.threshold - scale.step / 2, line=dict(color="#c0392b", dash="dash"))
    bounds = [scale.low - scale.step, scale.high + scale.step]
    figure.update_xaxes(title=coder_a, range=bounds, dtick=1)
    figure.update_yaxes(title=coder_b, range=bounds, dtick=1)
    return _style(figure, "Coder against coder (dashed: the class threshold)")


def bland_altman(scores: pd.DataFrame, coder_a: str, coder_b: str) -> go.Figure:
    """Difference against mean, with the mean difference and its 95% limits of agreement."""
    mean, difference = (scores["a"] + scores["b"]) / 2, scores["a"] - scores["b"]
    bias, spread = difference.mean(), difference.std(ddof=1) if len(scores) > 1 else 0.0
    figure = go.Figure(go.Scatter(x=mean, y=difference, mode="markers", text=scores["code"],
                                  marker=dict(size=9, opacity=0.7), hovertemplate="%{text}<extra></extra>"))  # fmt: skip
    figure.add_hline(y=bias, line=dict(color="#2f5bd3"), annotation_text=f"mean {bias:+.2f}")
    for limit in (bias - 1.96 * spread, bias + 1.96 * spread):
        figure.add_hline(y=limit, line=dict(color="grey", dash="dash"), annotation_text=f"{limit:+.2f}")
    figure.update_xaxes(title="mean of the two scores")
    figure.update_yaxes(title=f"{coder_a} minus {coder_b}")
    return _style(figure, "Bland-Altman: bias and limits of agreement")


def over_time(rolling: pd.DataFrame, window: int) -> go.Figure:
    """Rolling agreement in the order pairs were completed: a fall is drift."""
    figure = go.Figure()
    figure.add_trace(go.Scatter(x=rolling["completed"], y=rolling["exact"], name="exact", mode="lines+markers"))
    figure.add_trace(go.Scatter(x=rolling["completed"], y=rolling["within_one"], name="within 1 point", mode="lines+markers"))
    figure.update_xaxes(title="double-coded recordings completed")
    figure.update_yaxes(title=f"agreement over the last {window}", range=[0, 1.05])
    return _style(figure, "Agreement over time")


def certification_history(history: pd.DataFrame, coder: str, rule: CertificationRule) -> go.Figure:
    """Agreement with the master after each training recording, against the rule's threshold and minimum."""
    figure = go.Figure(go.Scatter(x=history["recordings"], y=history["value"], mode="lines+markers", name=coder))
    figure.add_hline(y=rule.threshold, line=dict(color="#c0392b", dash="dash"), annotation_text=f"threshold {rule.threshold:g}")
    figure.add_vline(x=rule.min_recordings, line=dict(color="grey", dash="dot"), annotation_text=f"{rule.min_recordings} recordings")
    figure.update_xaxes(title="training recordings submitted", dtick=1)
    figure.update_yaxes(title=f"{rule.statistic.replace('_', ' ')} with the master")
    return _style(figure, f"{coder}: agreement with the master codes")
