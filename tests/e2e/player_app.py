"""A page with the coding player alone, for browser tests of the player itself.

Query: ``src`` (the media URL), ``kind`` (video or audio), ``file`` (the same file on disk, measured
as the import measures it; without it the player has no frame rate and no waveform). The actions
the player sends are listed on the page, as the code page would receive them.
"""

import json
from pathlib import Path

import streamlit as st

from coding_app.codebook import load_codebook
from coding_app.playback import measure
from coding_app.web.player import player, pressed

query = st.query_params
actions = st.session_state.setdefault("actions", [])


def record() -> None:
    """Each key once, as the code page acts on them."""
    scores, command = pressed(st.session_state["player"]["action"], st.session_state.setdefault("acted", {}))
    actions.extend({"name": "score", "scale": scale, "score": score} for scale, score in scores.items())
    if command:
        actions.append({"name": command})


player(
    src=query["src"],
    kind=query["kind"],
    code="T1",
    facts=measure(Path(query["file"])) if "file" in query else None,
    notes="",
    locked=False,
    saved_label="",
    label_at=0,
    scales=load_codebook().for_kind(query["kind"]),
    scores={},
    confirming=False,
    key="player",
    on_action=record,
)
st.code(json.dumps(actions), language=None)


@st.dialog("A dialog over the player")
def dialog() -> None:
    """Like the coding page's "Cannot code this recording": its controls keep their own keys."""
    st.radio("Reason", ["No picture", "No sound"], index=None, key="reason")
    st.button("Confirm", key="confirm")


if st.button("Open a dialog"):
    dialog()
