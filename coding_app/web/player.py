"""The coding player: video or audio with the controls coders use, and the coder's notes.

A Streamlit v2 component, so that it lives in the page (no iframe) and can send the notes back
to Python. The media URL carries a signed token that stays the same for the page view, so a
rerun does not reload the player; the playback position is also kept in sessionStorage per
recording, so that a reload or a new token resumes where the coder was.

Keyboard (when not typing in the notes): Space or K play/pause, J / L back / forward 5 s,
, and . one frame back / forward (video, paused), [ and ] slower / faster, T inserts the
current time into the notes.
"""

from __future__ import annotations

import streamlit as st

_CSS = """
.obscode-player { font-family: var(--st-font, system-ui, sans-serif); color: var(--st-text-color, #1f2430); }
.obscode-player video { width: 100%; max-height: 62vh; background: #000; border-radius: 8px; display: block; }
.obscode-player audio { width: 100%; display: block; margin: .4rem 0; }
.obscode-player .bar { display: flex; flex-wrap: wrap; gap: .4rem; align-items: center; margin: .6rem 0; }
.obscode-player button { font: inherit; font-size: .95rem; padding: .35rem .7rem; border-radius: 6px;
  border: 1px solid #c9ced8; background: #fff; cursor: pointer; min-width: 2.6rem; }
.obscode-player button.primary { background: #2f5bd3; color: #fff; border-color: #2f5bd3; min-width: 5.5rem; }
.obscode-player button:focus-visible { outline: 3px solid #9db4f0; outline-offset: 1px; }
.obscode-player .time { font-variant-numeric: tabular-nums; font-size: 1.05rem; margin-left: .4rem; }
.obscode-player select { font: inherit; padding: .3rem; border-radius: 6px; }
.obscode-player .keys { color: #5a6170; font-size: .85rem; margin: .2rem 0 .8rem; }
.obscode-player .problem { background: #fdecea; color: #8a1c12; padding: .7rem .9rem; border-radius: 8px; }
.obscode-player label { font-weight: 600; display: block; margin: .6rem 0 .3rem; }
.obscode-player textarea { width: 100%; box-sizing: border-box; min-height: 7rem; font: inherit; padding: .5rem;
  border-radius: 8px; border: 1px solid #c9ced8; resize: vertical; }
.obscode-player .saved { color: #5a6170; font-size: .85rem; }
"""

_JS = """
const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 2];
const FRAME = 1 / 25;

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  const two = (n) => String(n).padStart(2, "0");
  return (h ? h + ":" + two(m) : m) + ":" + two(r);
}

function build(root, data) {
  root.innerHTML = "";
  root.dataset.src = data.src;
  const media = document.createElement(data.kind === "video" ? "video" : "audio");
  media.preload = "metadata";
  media.src = data.src;
  media.setAttribute("data-testid", "obscode-media");
  media.addEventListener("contextmenu", (e) => e.preventDefault());
  media.controlsList = "nodownload";
  const bar = document.createElement("div");
  bar.className = "bar";
  const button = (label, title, action, cls) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.title = title; b.setAttribute("aria-label", title);
    if (cls) b.className = cls;
    b.addEventListener("click", action);
    bar.appendChild(b);
    return b;
  };
  const play = button("Play", "Play or pause (Space)", () => (media.paused ? media.play() : media.pause()), "primary");
  button("-5 s", "Back 5 seconds (J)", () => { media.currentTime = Math.max(0, media.currentTime - 5); });
  button("+5 s", "Forward 5 seconds (L)", () => { media.currentTime = media.currentTime + 5; });
  if (data.kind === "video") {
    button("< frame", "One frame back (,)", () => { media.pause(); media.currentTime = Math.max(0, media.currentTime - FRAME); });
    button("frame >", "One frame forward (.)", () => { media.pause(); media.currentTime = media.currentTime + FRAME; });
  }
  const speed = document.createElement("select");
  speed.title = "Playback speed ([ and ])"; speed.setAttribute("aria-label", "Playback speed");
  SPEEDS.forEach((v) => { const o = document.createElement("option"); o.value = v; o.textContent = v + "x"; speed.appendChild(o); });
  speed.value = "1";
  speed.addEventListener("change", () => { media.playbackRate = Number(speed.value); });
  bar.appendChild(speed);
  const time = document.createElement("span");
  time.className = "time"; time.setAttribute("data-testid", "obscode-time");
  bar.appendChild(time);
  const keys = document.createElement("div");
  keys.className = "keys";
  keys.textContent = "Keys: Space play/pause, J/L -5/+5 s, ,/. frame, [/] speed, T insert time into notes";
  const problem = document.createElement("div");
  problem.className = "problem"; problem.hidden = true; problem.setAttribute("role", "alert");
  const label = document.createElement("label");
  label.textContent = "Notes"; label.htmlFor = "obscode-notes";
  const notes = document.createElement("textarea");
  notes.id = "obscode-notes"; notes.value = data.notes || "";
  notes.setAttribute("data-testid", "obscode-notes");
  const stamp = document.createElement("button");
  stamp.type = "button"; stamp.textContent = "Insert current time";
  stamp.title = "Insert the current time at the cursor (T)";
  const saved = document.createElement("div");
  saved.className = "saved"; saved.setAttribute("data-testid", "obscode-notes-state");
  root.append(media, bar, keys, problem, label, notes, stamp, saved);

  const key = "obscode:position:" + data.code;
  const show = () => { time.textContent = clock(media.currentTime) + " / " + clock(media.duration); };
  media.addEventListener("loadedmetadata", () => {
    const kept = Number(sessionStorage.getItem(key) || 0);
    if (kept > 0 && kept < media.duration) media.currentTime = kept;
    show();
  });
  media.addEventListener("timeupdate", () => { sessionStorage.setItem(key, String(media.currentTime)); show(); });
  media.addEventListener("play", () => { play.textContent = "Pause"; });
  media.addEventListener("pause", () => { play.textContent = "Play"; });
  media.addEventListener("error", () => {
    problem.hidden = false;
    problem.textContent = "This recording cannot be played: its media file is missing or your session has ended. " +
      "Reload the page; if it stays, tell the PI.";
  });
  const insertTime = () => {
    if (notes.readOnly) return;
    const text = "[" + clock(media.currentTime) + "] ";
    const at = notes.selectionStart ?? notes.value.length;
    notes.value = notes.value.slice(0, at) + text + notes.value.slice(notes.selectionEnd ?? at);
    notes.focus();
    notes.selectionStart = notes.selectionEnd = at + text.length;
    notes.dispatchEvent(new Event("input"));
  };
  stamp.addEventListener("click", insertTime);

  // Streamlit calls the component function on every rerun without running its cleanup, so the
  // listeners are attached once, here, and read the latest call's data and callbacks.
  const state = { data, setStateValue: () => {} };
  let timer = null;
  const send = () => {
    clearTimeout(timer);
    if (notes.value !== (root._sent ?? state.data.notes ?? "")) {
      root._sent = notes.value;
      saved.textContent = "Saving notes...";
      state.setStateValue("notes", notes.value);
    }
  };
  notes.addEventListener("input", () => { saved.textContent = "Typing..."; clearTimeout(timer); timer = setTimeout(send, 500); });
  notes.addEventListener("blur", send);
  const onKey = (e) => {
    if (!root.isConnected) { document.removeEventListener("keydown", onKey); return; }
    // Inside a shadow root e.target is the host element: ask where the key really went.
    const origin = e.composedPath()[0] || e.target;
    const typing = origin && (origin.tagName === "TEXTAREA" || origin.tagName === "INPUT" ||
      origin.tagName === "SELECT" || origin.isContentEditable);
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    const k = e.key, video = state.data.kind === "video";
    if (k === " " || k === "k" || k === "K") { e.preventDefault(); media.paused ? media.play() : media.pause(); }
    else if (k === "j" || k === "J") { media.currentTime = Math.max(0, media.currentTime - 5); }
    else if (k === "l" || k === "L") { media.currentTime = media.currentTime + 5; }
    else if (k === "," && video) { media.pause(); media.currentTime = Math.max(0, media.currentTime - FRAME); }
    else if (k === "." && video) { media.pause(); media.currentTime = media.currentTime + FRAME; }
    else if (k === "[" || k === "]") {
      const i = SPEEDS.indexOf(media.playbackRate) + (k === "]" ? 1 : -1);
      media.playbackRate = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, i))];
      speed.value = String(media.playbackRate);
    }
    else if (k === "t" || k === "T") { e.preventDefault(); insertTime(); }
  };
  document.addEventListener("keydown", onKey);
  root._obscode = { state, notes, stamp, saved, send };
  show();
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".obscode-player");
  if (!root) {
    root = document.createElement("div");
    root.className = "obscode-player";
    parentElement.appendChild(root);
  }
  if (root.dataset.src !== data.src) build(root, data);
  const { state, notes, stamp, saved, send } = root._obscode;
  const previous = state.data;
  state.data = data;
  state.setStateValue = setStateValue;
  // Notes changed in the database by something other than this window (another window): show
  // what is stored, as the page's message says.
  if (data.notes !== previous.notes && data.notes !== root._sent && data.notes !== notes.value) {
    notes.value = data.notes; root._sent = data.notes;
  }
  notes.readOnly = !!data.locked;
  stamp.disabled = !!data.locked;
  if (data.locked) saved.textContent = "Submitted: notes are locked.";
  else if (data.saved_label && (data.label_at !== previous.label_at || data.saved_notes === notes.value)) {
    saved.textContent = data.saved_label;
  }
  return send;
}
"""

_player = st.components.v2.component("obscode_player", css=_CSS, js=_JS, isolate_styles=True)


def player(
    *, src: str, kind: str, code: str, notes: str, locked: bool, saved_label: str, label_at: int, key: str
) -> str | None:
    """Mount the player; returns the notes as the coder has typed them (None until they type).

    ``saved_label`` says what became of the last save; a new ``label_at`` shows it even when
    the notes on screen are not the stored ones (a refusal).
    """
    result = _player(
        data={"src": src, "kind": kind, "code": code, "notes": notes, "saved_notes": notes, "locked": locked,
              "saved_label": saved_label, "label_at": label_at},
        key=key, default={"notes": None}, on_notes_change=lambda: None,
    )  # fmt: skip
    return result.notes
