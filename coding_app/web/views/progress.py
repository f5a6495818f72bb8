"""For the PI: what waits for a decision, how far every coder has got on every scale, and what cannot be coded."""

import pandas as pd
import streamlit as st

from coding_app import flags
from coding_app.errors import NotFound
from coding_app.exclusions import excluded
from coding_app.lock import CodingClosed
from coding_app.progress import coder_progress, missing_media
from coding_app.web import pi_view, runtime
from coding_app.web.identity import require

identity = require("pi")
store, pi = runtime.store(), identity.account
DECIDED = "progress-decided"  # what the PI's last decision on a flag did (or why it did nothing), shown once after it
# The scale's label says what is coded (video or session audio): the coder's role would only repeat it.
COLUMNS = ["coder", "scale", "assigned", "in_progress", "submitted", "flagged", "excluded", "left"]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def decide(flag: flags.FlagShown, exclude: bool) -> None:
    note = st.session_state.get(f"note-{flag.id}", "")
    try:
        if exclude:
            flags.exclude(store, pi, flag.id, note)
            said = (
                f"Recording {flag.code} is excluded from the study: it has left every coder's queue, "
                "and its ratings no longer count."
            )
        else:
            flags.clear(store, pi, flag.id, note)
            said = f"Recording {flag.code} is back in {flag.coder}'s queue, at its place."
        st.session_state[DECIDED] = (True, said)
    except (flags.FlagRefused, CodingClosed, NotFound) as refusal:
        st.session_state[DECIDED] = (False, f"Nothing changed: {refusal}.")


st.title("Coding progress")
waiting = flags.open_flags(store, pi)
table = coder_progress(store, pi)
missing = missing_media(store, pi, runtime.media())
gone = excluded(store, pi)

steps = []
if waiting:
    steps.append(
        f"{plural(len(waiting), 'flag')} {'waits' if len(waiting) == 1 else 'wait'} for your decision: "
        "under Flagged recordings, put each back in the queue or exclude it from the study."
    )
if not missing.empty:
    steps.append(f"{plural(len(missing), 'recording')} cannot be coded: the media file is missing (listed below).")
if table.empty:
    steps.append("No recordings have been assigned yet: assign them to coders (obscode assign).")
left = 0 if table.empty else int(table["left"].sum())
pi_view.next_steps(
    steps,
    f"Nothing waits for you; coders have {plural(left, 'scale rating')} still to make."
    if left
    else "Nothing waits: every assigned recording is coded or excluded.",
)
if decided := st.session_state.pop(DECIDED, None):
    (st.success if decided[0] else st.error)(decided[1])

st.subheader("Flagged recordings")
if not waiting:
    st.caption(
        "No flag waits for your decision. A coder who cannot code a recording (no picture, no sound, the "
        "wrong recording) flags it from the coding page; it is listed here."
    )
for flag in waiting:
    with st.container(border=True):
        st.markdown(
            f"**Recording {flag.code}** ({flag.kind}): **{flag.reason}**. "
            f"Flagged by {flag.coder} on {flag.raised_at:%Y-%m-%d %H:%M} UTC."
        )
        if flag.text:
            st.text(flag.text)  # as typed: no markdown
        st.text_input(
            "Note (needed to exclude)",
            key=f"note-{flag.id}",
            max_chars=flags.TEXT_LIMIT,
            placeholder="e.g. re-imported with its sound / not a trial family",
        )
        with st.container(horizontal=True):
            st.button(
                "Back to the queue",
                key=f"clear-{flag.id}",
                on_click=decide,
                args=(flag, False),
                help=f"The recording goes back into {flag.coder}'s queue, at its place.",
            )
            st.button(
                "Exclude from the study",
                key=f"exclude-{flag.id}",
                on_click=decide,
                args=(flag, True),
                help="For good: out of every coder's queue, and its ratings no longer count.",
            )

st.subheader("Coders")
if table.empty:
    st.info("No recordings have been assigned yet.")
else:
    pi_view.table(table[COLUMNS], headers={"left": "left to code"})

if not missing.empty:
    st.subheader("Missing media")
    st.error(f"{plural(len(missing), 'assigned recording')} cannot be coded: the media file is missing.")
    pi_view.table(missing, headers={"coders assigned": "coders waiting"})
elif not table.empty:
    st.caption("Every assigned recording's media file is in place.")

if gone:
    st.subheader("Excluded from the study")
    pi_view.table(
        pd.DataFrame(
            [
                {
                    "recording": e.code,
                    "kind": e.kind,
                    "why": e.cause,
                    "ratings count": "yes" if e.ratings_count else "no",
                    "reason": e.reason,
                    "by": e.by,
                    "at": e.at,
                }
                for e in gone
            ]
        ),
        headers={"reason": "PI's reason", "by": "excluded by"},
    )
