"""Coding one recording: the player, the codebook's scales, notes, drafts and submission.

The page's run opens the recording (who is signed in, their queue, the recording, whether coding is closed);
coding it is a fragment of the page: a score key, a click on a score, notes or Enter rerun that part alone,
which checks the sign-in again and reads the recording's ratings again, and the player in it stays as it is.
"""

import time
from dataclasses import replace
from datetime import timedelta

import streamlit as st

from coding_app import blinded
from coding_app.errors import NotFound
from coding_app.logins import MEDIA_TOKEN_LIFETIME, media_token
from coding_app.media import MediaError
from coding_app.playback import Facts
from coding_app.ratings import IncompleteRating, NotesRefused, RatingChanged, RatingLocked, RatingState
from coding_app.store import StoreUnavailable
from coding_app.store.models import now
from coding_app.web import runtime
from coding_app.web.flag_form import cannot_code
from coding_app.web.identity import require
from coding_app.web.outage import KEPT, UNAVAILABLE, save_kept
from coding_app.web.player import player, pressed
from coding_app.web.runtime import MEDIA_PATH

# The last view of the page that the database served, so an outage keeps the form (and what the
# coder is typing into it) on screen instead of taking it away.
LAST_VIEW = "code-last-view"
unsaved = st.session_state.setdefault(KEPT, {})
try:
    identity = require(*blinded.CODER_ROLES)
    store, account = runtime.store(), identity.account
    save_kept(unsaved, store, account)
    items = blinded.queue(store, account)
    requested = st.query_params.get("recording") or blinded.resume_code(items)
    if requested is None:
        st.title("Code a recording")
        st.success("Every recording in your queue is submitted.")
        st.stop()
    code = requested
    try:
        task = blinded.task(store, account, code)
    except NotFound:
        st.title("Code a recording")
        st.error("That recording is not in your queue. Pick one from your queue.")
        st.page_link("views/queue.py", label="Back to my queue")
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
# The database lock (coding_app.lock) closes coding: say so instead of offering a form that would be refused.
if not offline and (closed := blinded.coding_closed(store, account, code)):
    st.subheader(f"Recording {code}")
    st.warning(closed)
    st.page_link("views/queue.py", label="Back to my queue")
    st.stop()


SHOWN, CONFLICT = f"shown-{code}", f"conflict-{code}"
# The scores on this window's confirming screen (once it is shown), and whether a submit goes on to the next recording.
CONFIRMING, ADVANCE = f"confirm-{code}", f"advance-{code}"
ACTED = "player-acted"  # when the last keys the player sent were pressed, per scale
PLAYER = f"player-{code}"
OPENED = f"opened-{code}"  # the recording as this page run read it, for the coding part that the run goes on to


def with_kept(task: blinded.Task) -> blinded.Task:
    """The task as the coder left it: drafts not yet saved (kept during an outage) over the saved ones."""
    ratings, notes = dict(task.ratings), task.notes
    for (kept_code, key), value in unsaved.items():
        if kept_code != task.code:
            continue
        if key is None:
            notes = value
        else:
            saved = ratings.get(key)
            ratings[key] = replace(saved, score=value) if saved else RatingState(key, value, "draft", 1, now())
    return replace(task, ratings=ratings, notes=notes)


def reread() -> tuple[blinded.Task, bool]:
    """For a rerun of the coding part alone: the sign-in checked again (which keeps it alive), the drafts kept
    during an outage saved, and the recording as stored now; the last one read, and True, while the database is
    away."""
    try:
        if require(*blinded.CODER_ROLES).account.id != account.id:
            st.rerun()  # another account signed in, in another tab of this browser: the page says what is what
        save_kept(unsaved, store, account)
        fresh = blinded.task(store, account, code)
    except StoreUnavailable:
        return st.session_state[LAST_VIEW][2], True
    except NotFound:  # flagged in another window, or excluded meanwhile: the page says so
        st.rerun()
    st.session_state[LAST_VIEW] = (*st.session_state[LAST_VIEW][:2], fresh)
    return fresh, False


def media_url() -> str:
    """Stable for the page view (so reruns do not reload the player), renewed well before it expires."""
    kept = st.session_state.get(f"media-{code}")
    if kept is None or time.time() - kept[1] > MEDIA_TOKEN_LIFETIME.total_seconds() / 6:
        kept = (f"{MEDIA_PATH}/{media_token(store, identity, code)}", time.time())
        st.session_state[f"media-{code}"] = kept
    return kept[0]


def playback_facts() -> Facts | None:
    """Frame rate and sound envelope, read once per page view (None while they cannot be had: the player copes)."""
    kept = st.session_state.get(f"playback-{code}")
    if kept is None:
        try:
            kept = st.session_state[f"playback-{code}"] = blinded.playback_facts(store, account, code, runtime.media())
        except (StoreUnavailable, MediaError):
            return None
    return kept


def saved(label: str) -> None:
    st.session_state[f"saved-{code}"] = label
    st.session_state[f"saved-at-{code}"] = time.time_ns()


def save(scale_key: str, expected: float | None, score: float | None) -> None:
    """Save the score just chosen, if what is stored is still what this window showed."""
    try:
        blinded.save_draft(store, account, code, scale_key, score, expected=expected)
        st.session_state[SHOWN]["scores"][scale_key] = score
        saved(time.strftime("Draft saved at %H:%M:%S"))
    except RatingLocked:
        saved("This recording was submitted in another window: it is locked.")
    except RatingChanged:
        st.session_state[CONFLICT] = (
            "Not saved: this score was changed in another window. What is saved now is shown here."
        )
    except ValueError as error:  # a score key that is not on the scale's grid
        saved(f"Not saved: {error}.")
    except StoreUnavailable:
        unsaved[(code, scale_key)] = score
        saved("Not saved yet: kept in this window until the database is back.")


def clicked(widget: str, scale_key: str, expected: float | None) -> None:
    save(scale_key, expected, st.session_state[widget])


def typed() -> None:
    """Notes typed in the player: saved against the notes this window showed."""
    text = st.session_state[PLAYER].get("notes")
    if text is None or text == st.session_state[SHOWN]["notes"]:
        return
    try:
        st.session_state[SHOWN]["notes"] = blinded.save_notes(
            store, account, code, text, expected=st.session_state[SHOWN]["notes"]
        )
        saved(time.strftime("Notes saved at %H:%M:%S"))
    except NotesRefused as error:
        saved(f"Notes not saved: {error}.")
    except RatingLocked:
        saved("This recording was submitted in another window: it is locked.")
    except RatingChanged:
        saved("Notes not saved: they were changed in another window. What is saved now is shown.")
    except StoreUnavailable:
        unsaved[(code, None)] = text
        saved("Not saved yet: kept in this window until the database is back.")


def submit(shown: dict[str, float], then_next: bool = False) -> None:
    """Submit exactly the scores on the confirming screen, or nothing; then open the next recording if asked."""
    st.session_state.pop(CONFIRMING, None)
    try:
        blinded.submit(store, account, code, shown=shown)
    except IncompleteRating as error:
        st.session_state[CONFLICT] = str(error)
    except RatingChanged:
        st.session_state[CONFLICT] = (
            "Not submitted: the scores were changed in another window since you confirmed. "
            "What is saved now is shown here; check it and submit again."
        )
    except StoreUnavailable:
        st.session_state[CONFLICT] = (
            "Not submitted: the study database cannot be reached just now. Try again in a moment."
        )
    else:
        st.session_state[ADVANCE] = then_next
        st.rerun()  # the whole page: the queue has moved on


def ask_to_confirm() -> None:
    unscored = [s.label for s in task.scales if st.session_state[SHOWN]["scores"].get(s.key) is None]
    if unscored:
        saved(f"Still to score: {', '.join(unscored)}.")
    else:
        st.session_state[CONFIRMING] = True


def act() -> None:
    """Keys pressed in the player: scores for scales, Enter (submit, then confirm) or Esc (cancel)."""
    keyed, command = pressed(st.session_state[PLAYER].get("action"), st.session_state.setdefault(ACTED, {}))
    for scale_key, score in keyed.items():
        if scale_key in st.session_state[SHOWN]["scores"]:
            save(scale_key, st.session_state[SHOWN]["scores"][scale_key], score)
    if command == "submit":
        ask_to_confirm()
    elif command == "confirm" and isinstance(st.session_state.get(CONFIRMING), dict):
        submit(st.session_state[CONFIRMING], then_next=True)
    elif command == "cancel":
        st.session_state.pop(CONFIRMING, None)


@st.fragment
def coding(next_code: str | None) -> None:
    """The player, the scales and the submit step. A score, a key or the notes rerun this part alone (not the
    page: no queue to read again), and the player in it stays as it is (its position, speed and loop)."""
    task, offline = st.session_state.pop(OPENED, None) or reread()
    task = with_kept(task)
    scores = {scale.key: task.ratings[scale.key].score if scale.key in task.ratings else None for scale in task.scales}
    # What this window showed last time against what is stored now: a difference nobody here made
    # was made in another window, and the coder must see it before anything is saved or submitted.
    before = st.session_state.get(SHOWN)
    if before is not None and not offline and before != {"scores": scores, "notes": task.notes}:
        st.session_state.setdefault(CONFLICT, "Changed in another window: what is saved now is shown here.")
    st.session_state[SHOWN] = {"scores": dict(scores), "notes": task.notes}

    # Nothing comes before the player that is there only sometimes: moved, it would be a new one (and for a
    # moment two), reset to the start of the recording at normal speed.
    left, right = st.columns([5, 4], gap="large")
    with left:
        player(
            src=media_url(),
            kind=task.kind,
            code=code,
            facts=playback_facts(),
            notes=task.notes,
            locked=task.submitted,
            saved_label=st.session_state.get(f"saved-{code}", ""),
            label_at=st.session_state.get(f"saved-at-{code}", 0),
            scales=task.scales,
            scores=scores,
            confirming=bool(st.session_state.get(CONFIRMING)),
            key=PLAYER,
            on_action=act,
            on_notes=typed,
        )
        # A new session of this page (on another app process, after a failover) is sent what the player sent
        # before, which the old process acted on: only keys pressed from now on count, so a score keyed before
        # the failover never overwrites one saved since (in another window).
        if ACTED not in st.session_state:
            pressed(st.session_state[PLAYER].get("action"), st.session_state.setdefault(ACTED, {}))

    with right:
        if offline:
            st.error(UNAVAILABLE)
        conflict = st.session_state.pop(CONFLICT, None)
        if conflict:
            st.warning(conflict)
            st.session_state.pop(CONFIRMING, None)  # the coder first sees what is saved now
        # Confirming comes first, so that the scores it locks are in view without scrolling.
        confirming = bool(st.session_state.get(CONFIRMING)) and not task.submitted
        if confirming:
            st.session_state[CONFIRMING] = dict(scores)  # exactly what this screen shows is what a confirmation locks
            st.warning(
                "Submit this recording? These scores are then locked; only the PI can reopen them.  \n"
                "Enter submits and opens the next recording; Esc cancels."
            )
            st.markdown(
                "\n".join(
                    f"#### {scale.label}: **{scores[scale.key]:g}**"
                    + (
                        f" ({scale.class_of(score)})"
                        if scale.scale.threshold is not None and (score := scores[scale.key]) is not None
                        else ""
                    )
                    for scale in task.scales
                )
            )
            with st.container(horizontal=True):
                st.button(
                    "Submit & next" if next_code else "Submit and finish",
                    type="primary",
                    on_click=submit,
                    args=(scores, True),
                    help="Enter",
                )
                st.button("Yes, submit", help="Submit and stay on this recording", on_click=submit, args=(scores,))
                st.button("Cancel", help="Esc", on_click=st.session_state.pop, args=(CONFIRMING, None))
        for scale in task.scales:
            levels = [float(x) for x in scale.scale.levels]
            # A radio per stored score, showing it (another window may have changed it). Setting one
            # radio's value instead lost scores: a rerun asked for (by a key) before the browser had
            # shown the last one sends the radio's old value, which then counted as a click.
            widget = f"score-{code}-{scale.key}-{scores[scale.key]}"
            st.markdown(f"**{scale.label}**")
            chosen = st.radio(
                scale.label,
                levels,
                index=None if (score := scores[scale.key]) is None else levels.index(score),
                label_visibility="collapsed",
                format_func=lambda x: f"{x:g}",
                horizontal=True,
                key=widget,
                disabled=task.submitted,
                on_change=clicked,
                args=(widget, scale.key, scores[scale.key]),
            )
            if chosen is not None and scale.scale.threshold is not None:
                st.markdown(f"Class: **{scale.class_of(chosen)}** (threshold {scale.scale.threshold:g})")
            anchor = scale.anchors.get(chosen) if chosen is not None else None
            if anchor:
                st.caption(f"{chosen:g}: {anchor}")
            with st.expander("Anchors"):
                st.markdown("\n".join(f"- **{point:g}**: {text}" for point, text in scale.anchors.items()))
        if not task.submitted:
            st.caption(st.session_state.get(f"saved-{code}", "Changes are saved as drafts as you go."))

        if task.submitted:
            st.success("Submitted and locked. Thank you.")
        elif not confirming:
            unscored = [s.label for s in task.scales if scores[s.key] is None]
            st.button(
                "Submit ratings",
                type="primary",
                disabled=bool(unscored),
                on_click=ask_to_confirm,
                help=f"Still to score: {', '.join(unscored)}" if unscored else "Enter, then Enter again to confirm",
            )
        if next_code and st.button("Next recording"):
            st.switch_page("views/code.py", query_params={"recording": next_code})
        st.page_link("views/queue.py", label="Back to my queue")
        cannot_code(store, account, code, next_code, offered=not (task.submitted or offline))


next_code = blinded.resume_code([item for item in items if item.code != code])
if st.session_state.pop(ADVANCE, False) and task.submitted and next_code:
    st.switch_page("views/code.py", query_params={"recording": next_code})
position = next((item.position for item in items if item.code == code), 0)
done = sum(item.status == "submitted" for item in items)
# The player, both scales and the submit button fit a 1280x720 window: less of Streamlit's padding.
st.html(
    "<style>[data-testid=stMainBlockContainer] { padding: 2.2rem 2.5rem 2rem; }"
    "[data-testid=stMainBlockContainer] h3 { padding: 0; }"
    "[data-testid=stRadio] [role=radiogroup] { column-gap: .35rem; }</style>"
)
st.subheader(f"Recording {code}")
st.caption(f"Number {position} in your queue of {len(items)}; {done} of {len(items)} done")
st.session_state[OPENED] = (task, offline)
coding(next_code)


@st.fragment(run_every=timedelta(days=1))
def rerun_on_reconnect() -> None:
    """Nothing to show. Streamlit's browser side runs a page with a fragment that reruns by itself again in full
    when it reconnects; after a failover that is the new app process's first run of the page, without which the new
    session, knowing none of its fragments, would drop the first score key's or click's rerun."""


rerun_on_reconnect()
