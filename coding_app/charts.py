"""The PI's pictures of agreement (plotly): where coders meet, where they part, and how training goes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from reliability import Scale, confusion_matrix

from .codebook import CertificationRule
from .interpretation import statistic_label


def _style(figure: go.Figure, title: str) -> go.Figure:
    """Title and size; no template, which costs more than the figure (the page's theme styles it,
    the report names its own)."""
    return figure.update_layout(title=title, height=430, margin=dict(l=60, r=20, t=60, b=50))


def confusion_heatmap(scores: pd.DataFrame, scale: Scale, coder_a: str, coder_b: str) -> go.Figure:
    """Counts on every level of the grid: the diagonal is agreement."""
    table = confusion_matrix(scores["a"], scores["b"], scale)
    labels = [f"{x:g}" for x in scale.levels]
    figure = go.Figure(
        go.Heatmap(
            z=table.to_numpy(),
            x=labels,
            y=labels,
            colorscale="Blues",
            text=table.to_numpy(),
            texttemplate="%{text}",
            hovertemplate=f"{coder_a} %{{y}}, {coder_b} %{{x}}: %{{z}}<extra></extra>",
        )
    )
    figure.update_xaxes(title=coder_b, type="category")
    figure.update_yaxes(title=coder_a, type="category", autorange="reversed")
    return _style(figure, "Confusion matrix on the full scale")


def class_boundary(scale: Scale) -> str:
    """Why the scatter's dashed lines sit where they do, e.g. "class boundary 5.25: between 5 and 5.5 on
    the 0.5-point grid (Sensitive from 5.5)"; "" for a scale without classes."""
    if scale.threshold is None:
        return ""
    below, at = scale.threshold - scale.step, scale.threshold
    return (
        f"class boundary {at - scale.step / 2:g}: between {below:g} and {at:g} on the {scale.step:g}-point grid "
        f"({scale.class_labels[1]} from {at:g})"
    )


def scatter(scores: pd.DataFrame, scale: Scale, coder_a: str, coder_b: str) -> go.Figure:
    """One point per recording, jittered so that ties show; the class boundary drawn on both axes,
    halfway between the grid's two levels either side of the threshold, so no point sits on it."""
    jitter = np.random.default_rng(0).uniform(-0.12, 0.12, size=(2, len(scores))) * scale.step
    figure = go.Figure(
        go.Scatter(
            x=scores["a"] + jitter[0],
            y=scores["b"] + jitter[1],
            mode="markers",
            text=scores["code"],
            marker=dict(size=9, opacity=0.7),
            name="a recording (jittered so ties show)",
            hovertemplate="%{text}<extra></extra>",
        )
    )
    bounds = [scale.low - scale.step, scale.high + scale.step]
    figure.add_trace(
        go.Scatter(
            x=[scale.low, scale.high],
            y=[scale.low, scale.high],
            mode="lines",
            name="same score",
            line=dict(dash="dot", color="grey"),
            hoverinfo="skip",
        )
    )
    if scale.threshold is not None:
        at = scale.threshold - scale.step / 2
        figure.add_trace(
            go.Scatter(
                x=[at, at, None, *bounds],
                y=[*bounds, None, at, at],
                mode="lines",
                name=class_boundary(scale),
                line=dict(color="#c0392b", dash="dash"),
                hoverinfo="skip",
            )
        )
    figure.update_xaxes(title=coder_a, range=bounds, dtick=1)
    figure.update_yaxes(title=coder_b, range=bounds, dtick=1)
    figure.update_layout(showlegend=True, legend=dict(orientation="h", yanchor="top", y=-0.15, x=0))
    return _style(figure, "Coder against coder").update_layout(height=500, margin=dict(b=110))


def bland_altman(scores: pd.DataFrame, coder_a: str, coder_b: str) -> go.Figure:
    """Difference against mean, with the mean difference and its 95% limits of agreement."""
    mean, difference = (scores["a"] + scores["b"]) / 2, scores["a"] - scores["b"]
    bias, spread = difference.mean(), difference.std(ddof=1) if len(scores) > 1 else 0.0
    figure = go.Figure(
        go.Scatter(
            x=mean,
            y=difference,
            mode="markers",
            text=scores["code"],
            marker=dict(size=9, opacity=0.7),
            hovertemplate="%{text}<extra></extra>",
        )
    )
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
    figure.add_trace(
        go.Scatter(x=rolling["completed"], y=rolling["within_one"], name="within 1 point", mode="lines+markers")
    )
    figure.update_xaxes(title="double-coded recordings completed")
    figure.update_yaxes(title=f"agreement over the last {window}", range=[0, 1.05])
    return _style(figure, "Agreement over time")


def certification_history(history: pd.DataFrame, coder: str, rule: CertificationRule) -> go.Figure:
    """Agreement with the master after each training recording, against the rule's threshold and minimum."""
    figure = go.Figure(go.Scatter(x=history["recordings"], y=history["value"], mode="lines+markers", name=coder))
    figure.add_hline(
        y=rule.threshold, line=dict(color="#c0392b", dash="dash"), annotation_text=f"threshold {rule.threshold:g}"
    )
    figure.add_vline(
        x=rule.min_recordings, line=dict(color="grey", dash="dot"), annotation_text=f"{rule.min_recordings} recordings"
    )
    figure.update_xaxes(title="training recordings submitted", dtick=1)
    figure.update_yaxes(title=f"{statistic_label(rule.statistic)} with the master")
    return _style(figure, f"{coder}: agreement with the master codes")


def fidelity_by_clinician(table: pd.DataFrame, grid: Scale, threshold: float | None) -> go.Figure:
    """Mean adherence per clinician (n coded on each bar) on the whole scale, with the acceptable line."""
    figure = go.Figure(
        go.Bar(
            x=table["clinician"],
            y=table["mean_adherence"],
            text=table["coded"],
            texttemplate="%{y:.2f} (n=%{text})",
            textposition="inside",
            name="mean adherence",
        )
    )
    if threshold is not None:
        # labelled at the left, above the line, inside the plot: never clipped by the axis' end
        figure.add_hline(
            y=threshold,
            line=dict(color="#c0392b", dash="dash"),
            annotation_text=f"acceptable (>= {threshold:g})",
            annotation_position="top left",
            annotation_font_color="#c0392b",
            annotation_bgcolor="white",
        )
    figure.update_yaxes(title="mean adherence", range=[grid.low, grid.high + grid.step / 4], dtick=grid.step)
    figure.update_xaxes(title="clinician")
    return _style(figure, "Mean adherence by clinician").update_layout(height=360)
