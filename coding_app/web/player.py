"""The coding player: video or audio with the controls coders use, keyboard scoring, and the coder's notes.

A Streamlit v2 component (player.js, player.css), so that it lives in the page (no iframe) and
can send notes, scores and the submit keys back to Python. The media URL carries a signed token
that stays the same for the page view, so a rerun does not reload the player; the playback
position is also kept in sessionStorage per recording, so that a reload or a new token resumes
where the coder was.

Every action has a key (the player's "?" lists them), and keys act wherever the focus is except
in a text field. Score keys, Enter and Esc are sent as one state value, ``action``: ``{"name":
"score" | "submit" | "confirm" | "cancel", "scores": {scale: {"score": value, "at": pressed}},
"at": pressed}``, carrying every scale's latest score key, so that keys reaching Python together
lose none; :func:`pressed` reads what is new in it, and the page decides what each does.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from coding_app.codebook import ScaleDefinition
from coding_app.playback import Facts
from coding_app.web.assets import module_urls
from coding_app.web.routes import peaks_url

_HERE = Path(__file__).parent
_player = st.components.v2.component(
    "obscode_player",
    css=(_HERE / "player.css").read_text(),
    # wavesurfer.js by its address on the app's asset route (the component's script travels with every rerun)
    js=f"const LIBRARIES = {json.dumps(module_urls())};\n" + (_HERE / "player.js").read_text(),
    isolate_styles=True,
)


def _scale(scale: ScaleDefinition, score: float | None) -> dict:
    return {
        "key": scale.key,
        "label": scale.label,
        "short": re.sub(r"\s*\(.*\)$", "", scale.label),
        "levels": [float(x) for x in scale.scale.levels],
        "score": score,
        "anchors": [[point, text] for point, text in scale.anchors.items()],
    }


def player(
    *,
    src: str,
    kind: str,
    code: str,
    facts: Facts | None,
    notes: str,
    locked: bool,
    saved_label: str,
    label_at: int,
    scales: list[ScaleDefinition],
    scores: dict[str, float | None],
    confirming: bool,
    key: str,
    on_action: Callable[[], None],
    on_notes: Callable[[], None] = lambda: None,
) -> str | None:
    """Mount the player; returns the notes as the coder has typed them (None until they type).

    ``saved_label`` says what became of the last save; a new ``label_at`` shows it even when
    the notes on screen are not the stored ones (a refusal). ``facts`` are the recording's frame
    rate and sound envelope (None: not known, frame steps then assume 25 per second and no
    waveform is drawn). ``on_action`` runs before the page script
    when a score key or Enter was pressed; it reads the action from ``st.session_state[key].action``;
    ``on_notes``, when the notes typed changed (``st.session_state[key].notes``).
    """
    result = _player(
        data={
            "src": src,
            "kind": kind,
            "code": code,
            "fps": facts and facts.frame_rate,
            # fetched once per page view from the route (not in every rerun's arguments)
            "peaks": peaks_url(src) if facts and facts.peaks else None,
            "peaks_per_second": facts and facts.peaks_per_second,
            "notes": notes,
            "saved_notes": notes,
            "locked": locked,
            "saved_label": saved_label,
            "label_at": label_at,
            "confirming": confirming,
            "scales": [_scale(scale, scores.get(scale.key)) for scale in scales],
        },
        key=key,
        default={"notes": None, "action": None},
        on_notes_change=on_notes,
        on_action_change=on_action,
    )
    return result.notes


def pressed(action: object, acted: dict[str, float]) -> tuple[dict[str, float], str | None]:
    """What the coder keyed since the keys already acted on: each scale's newest score, and the command.

    ``acted`` holds when the last key acted on was pressed, per scale (and "" for commands); it is
    updated, so that each key is acted on once and never one older than the last. The command is
    "submit", "confirm" or "cancel" (None for none new).
    """
    if not isinstance(action, dict):
        return {}, None
    scores = {}
    for scale, keyed in (action.get("scores") or {}).items():
        at, score = keyed.get("at"), keyed.get("score")
        if isinstance(at, int | float) and isinstance(score, int | float) and at > acted.get(scale, 0):
            acted[scale], scores[scale] = at, float(score)
    at, name = action.get("at"), action.get("name")
    if not isinstance(at, int | float) or at <= acted.get("", 0) or name not in ("submit", "confirm", "cancel"):
        return scores, None
    acted[""] = at
    return scores, name
