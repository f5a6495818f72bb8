"""Coding one recording: the player, the codebook's scales, notes, drafts and submission."""

import time
from dataclasses import replace

import streamlit as st

from coding_app import blinded
from coding_app.errors import NotFound
from coding_app.ratings import IncompleteRating, RatingLocked, RatingState
from coding_app.sessions import MEDIA_TOKEN_LIFETIME, media_token
from coding_app.store import StoreUnavailable
from coding_app.store.models import now
from coding_app.web import runtime
from coding_app.web.identity import require
from coding_app.web.player import player
from coding_app.web.runtime import KEPT, MEDIA_PATH, UNAVAILABLE

# The last view of the page that the database served, so an outage keeps the form (and what the
# coder is typing into it) on screen instead of taking it away.
LAST_VIEW = "code-last-view"
unsaved = st.session_state.setdefault(KEPT, {})
try:
    identity = require(*blinded.CODER_ROLES)
    store, account = runtime.store(), identity.account
    runtime.save_kept(unsaved, store, account)
    items = blinded.queue(store, account)
    code = st.query_params.get("recording") or blinded.resume_code(items)
    if code is None:
        st.title("Code a recording")
        st.success("Every recording in your queue is submitted.")
        st.stop()
    try:
        task = blinded.task(store, account, code)
    except NotFound:
        st.title("Code a recording")
        st.error("That recording is not in your queue. Pick one from your queue.")
        st.page_link("pages/queue.py", label="Back to my queue")
        st.stop()
    st.session_state[LAST_VIEW] = (identity, items, task)
    offline = False
except StoreUnavailable:
    last = st.session_state.get(LAST_VIEW)
    if last is None or st.query_params.get("recording", last[2].code) != last[2].code:
        st.title("Code a recording")
        st.error(UNAVAILABLE)
        st.button("Try again")
        st.stop()
    (identity, items, task), offline = last, True
    store, account, code = runtime.store(), identity.account, task.code
st.query_params["recording"] = code


def with_kept(task: blinded.Task) -> blinded.Task:
    """The task as the coder left it: drafts not yet saved (kept during an outage) over the saved ones."""
    ratings = dict(task.ratings)
    for (kept_code, key), (score, notes) in unsaved.items():
        if kept_code == task.code:
            saved = ratings.get(key)
            ratings[key] = (replace(saved, score=score, notes=notes) if saved
                            else RatingState(key, score, notes, "draft", 1, now()))  # fmt: skip
    return replace(task, ratings=ratings)


task = with_kept(task)


def media_url() -> str:
    """Stable for the page view (so reruns do not reload the player), renewed well before it expires."""
    kept = st.session_state.get(("media", code))
    if kept is None or time.time() - kept[1] > MEDIA_TOKEN_LIFETIME.total_seconds() / 6:
        kept = (f"{MEDIA_PATH}/{media_token(store, identity, code)}", time.time())
        st.session_state[("media", code)] = kept
    return kept[0]


def save(scale_key: str, score: float | None, notes: str) -> None:
    try:
        blinded.save_draft(store, account, code, scale_key, score, notes)
        st.session_state[("saved", code)] = time.strftime("Draft saved at %H:%M:%S")
    except RatingLocked:
        st.session_state[("saved", code)] = "This recording was submitted in another window: it is locked."
    except StoreUnavailable:
        unsaved[(code, scale_key)] = (score, notes)
        st.session_state[("saved", code)] = "Not saved yet: kept in this window until the database is back."


def notes_now() -> str:
    return next((r.notes for r in task.ratings.values() if r.notes), "")


position = next((item.position for item in items if item.code == code), 0)
done = sum(item.status == "submitted" for item in items)
st.title(f"Recording {code}")
st.caption(f"Number {position} in your queue of {len(items)}; {done} of {len(items)} done")
if offline:
    st.error(UNAVAILABLE)

left, right = st.columns([5, 4], gap="large")
with left:
    typed = player(src=media_url(), kind=task.kind, code=code, notes=notes_now(), locked=task.submitted,
                   saved_label=st.session_state.get(("saved", code), ""), key=f"player-{code}")  # fmt: skip
    if typed is not None and typed != notes_now() and not task.submitted:
        for scale in task.scales:
            current = task.ratings.get(scale.key)
            save(scale.key, current.score if current else None, typed)
        st.rerun()

with right:
    for scale in task.scales:
        current = task.ratings.get(scale.key)
        levels = [float(x) for x in scale.scale.levels]
        st.markdown(f"**{scale.label}**")
        chosen = st.radio(
            scale.label, levels, label_visibility="collapsed", index=levels.index(current.score) if current and current.score is not None else None,
            format_func=lambda x: f"{x:g}", horizontal=True, key=f"score-{code}-{scale.key}", disabled=task.submitted,
            on_change=lambda s=scale: save(s.key, st.session_state[f"score-{code}-{s.key}"], notes_now()),
        )  # fmt: skip
        if chosen is not None and scale.scale.threshold is not None:
            st.markdown(f"Class: **{scale.class_of(chosen)}** (threshold {scale.scale.threshold:g})")
        anchor = scale.anchors.get(chosen) if chosen is not None else None
        if anchor:
            st.caption(f"{chosen:g}: {anchor}")
        with st.expander("Anchors"):
            st.markdown("\n".join(f"- **{point:g}**: {text}" for point, text in scale.anchors.items()))
    if not task.submitted:
        st.caption(st.session_state.get(("saved", code), "Changes are saved as drafts as you go."))

    confirming = ("confirm", code)
    if task.submitted:
        st.success("Submitted and locked. Thank you.")
    elif st.session_state.get(confirming):
        st.warning("Submit this recording? Your scores are then locked; only the PI can reopen them.")
        yes, no = st.columns(2)
        if yes.button("Yes, submit", type="primary"):
            st.session_state.pop(confirming)
            try:
                blinded.submit(store, account, code)
            except IncompleteRating as error:
                st.error(str(error))
            except StoreUnavailable:
                st.error("Not submitted: the study database cannot be reached just now. Try again in a moment.")
            else:
                st.rerun()
        if no.button("Cancel"):
            st.session_state.pop(confirming)
            st.rerun()
    else:
        unscored = [s.label for s in task.scales if task.ratings.get(s.key) is None or task.ratings[s.key].score is None]
        if st.button("Submit ratings", type="primary", disabled=bool(unscored),
                     help=f"Still to score: {', '.join(unscored)}" if unscored else None):  # fmt: skip
            st.session_state[confirming] = True
            st.rerun()
    next_code = blinded.resume_code([item for item in items if item.code != code])
    if next_code and st.button("Next recording"):
        st.switch_page("pages/code.py", query_params={"recording": next_code})
    st.page_link("pages/queue.py", label="Back to my queue")
