// The coding player (a Streamlit components v2 component; see player.py for what Python sends).
// Keys act wherever the focus is, except while typing in a text field: see KEYS.

const SPEEDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4];
const DIGIT_WINDOW_MS = 1200; // a "." or second digit this soon after a digit continues the score
const CONTINUE_MS = 200; // how long a score that could be continued waits for its next key
const REPEAT_DELAY_MS = 350; // holding a frame button steps again after this, like a held key

// [keys, what they do, for video only]
const KEYS = [
  ["Space or K", "play / pause"],
  ["J / L", "back / forward 5 s"],
  ["Left / Right", "back / forward 1 s"],
  ["Home / End", "start / end"],
  [", / .", "one frame back / forward (hold to repeat)", true],
  ["[ / ]", "slower / faster (0.25x to 4x)"],
  ["A / B", "mark loop start / end (the loop plays A to B)"],
  ["X", "clear the loop"],
  ["S / Shift+S", "next / previous scale to score"],
  ["digits", "score the chosen scale; then . for a half point (5 then . is 5.5)"],
  ["Enter", "submit: asks to confirm; Enter again submits and opens the next recording"],
  ["Esc", "cancel the confirmation, close this help, or leave the notes"],
  ["T", "new note entry at the current time"],
  ["E / Shift+E", "go to the note entry before / after now"],
  ["N", "type in the notes"],
  ["+ / -", "zoom the waveform in / out"],
  ["?", "this help"],
];

export function clock(seconds) {
  const ms = Math.max(0, Math.round((seconds || 0) * 1000));
  const h = Math.floor(ms / 3600000), m = Math.floor(ms / 60000) % 60, s = Math.floor(ms / 1000) % 60;
  const pad = (n, w) => String(n).padStart(w, "0");
  return h + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(ms % 1000, 3);
}

// "[h:mm:ss.mmm]" as "T" writes it, or "[m:ss]" as notes written before it did.
const STAMP = /^\[(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.(\d{1,3}))?\]\s?(.*)$/;

function entries(text) {
  const found = [];
  for (const line of text.split("\n")) {
    const m = STAMP.exec(line.trim());
    if (m) {
      const seconds = Number(m[1] || 0) * 3600 + Number(m[2]) * 60 + Number(m[3]) + Number((m[4] || "0").padEnd(3, "0")) / 1000;
      found.push({ seconds, text: m[5] });
    }
  }
  return found;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k.startsWith("aria-") || k.startsWith("data-") || k === "role") node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children);
  return node;
}

// The drawing libraries (LIBRARIES: their addresses on the app's asset route, set by player.py), as
// modules: the browser loads each once and keeps it. Made absolute: this script may run from a blob: URL.
const library = (name) => import(new URL(LIBRARIES[name], document.baseURI).href).then((module) => module.default);

function build(root, data) {
  root.innerHTML = "";
  root.dataset.src = data.src;
  const video = data.kind === "video";
  const media = el(video ? "video" : "audio", { preload: "metadata", src: data.src, "data-testid": "obscode-media" });
  media.controlsList = "nodownload";
  media.addEventListener("contextmenu", (e) => e.preventDefault());
  const state = { data, setStateValue: () => {}, frameTime: null, a: null, b: null,
                  scale: 0, typed: "", typedAt: 0, keyed: {}, waiting: null, stepping: null, queued: [] };  // fmt: skip

  // --- seek bar: an ARIA slider; the played part, what is buffered, the A-B loop, hover time
  const buffered = el("div", { className: "buffered" });
  const played = el("div", { className: "played" });
  const loop = el("div", { className: "loop", hidden: true });
  const hover = el("div", { className: "hover", hidden: true });
  const seek = el("div", { className: "seek", role: "slider", tabIndex: 0, "aria-label": "Position",
                           "aria-valuemin": "0", "data-testid": "obscode-seek" },
                  el("div", { className: "track" }, buffered, played, loop), hover);  // fmt: skip
  const timeAt = (x) => {
    const r = seek.getBoundingClientRect();
    return Math.min(1, Math.max(0, (x - r.left) / r.width)) * (media.duration || 0);
  };
  seek.addEventListener("pointerdown", (e) => {
    seek.setPointerCapture(e.pointerId);
    go(timeAt(e.clientX));
  });
  seek.addEventListener("pointermove", (e) => {
    const r = seek.getBoundingClientRect();
    hover.hidden = false;
    hover.textContent = clock(timeAt(e.clientX));
    hover.style.left = Math.min(r.width - 40, Math.max(40, e.clientX - r.left)) + "px";
    if (seek.hasPointerCapture(e.pointerId)) go(timeAt(e.clientX));
  });
  seek.addEventListener("pointerleave", () => { hover.hidden = true; });

  // --- the whole recording's sound, from the envelope measured at import (never decoded here)
  const wave = el("div", { className: "wave " + data.kind, hidden: true, "data-testid": "obscode-waveform",
                           title: "Click to go there; + and - zoom" });  // fmt: skip
  let surfer = null;
  async function drawWave() {
    const url = state.data.peaks;
    if (surfer || !url || !Number.isFinite(media.duration)) return;
    surfer = true;
    const envelope = fetch(url, { credentials: "same-origin" }).then((r) => {
      if (!r.ok) throw new Error("the waveform answered " + r.status);
      return r.arrayBuffer();
    });
    let peaks, WaveSurfer, Timeline, Zoom;
    try {
      [peaks, WaveSurfer, Timeline, Zoom] = await Promise.all([envelope, ...["WaveSurfer", "Timeline", "Zoom"].map(library)]);
    } catch {
      surfer = null;  // no waveform this time (a session ended, say); the next load of the media tries again
      return;
    }
    peaks = Float32Array.from(new Uint8Array(peaks), (v) => v / 255);
    wave.hidden = false;
    surfer = WaveSurfer.create({
      container: wave, media, peaks: [peaks], duration: media.duration, height: video ? 40 : 80, normalize: true,
      waveColor: "#9aa6c4", progressColor: "#2f5bd3", cursorColor: "#d97706", cursorWidth: 2, dragToSeek: true,
      plugins: [Timeline.create({ height: 14, style: { fontSize: "10px", color: "#5a6170" } }), Zoom.create({ scale: 0.25 })],
    });
  }
  function zoom(by) {
    if (!surfer || surfer === true) return;
    const fit = wave.clientWidth / media.duration;
    state.zoom = Math.min(400, Math.max(fit, (state.zoom || fit) * by));
    surfer.zoom(state.zoom);
  }

  // --- controls
  const bar = el("div", { className: "bar" });
  const button = (label, title, action, cls) => {
    const b = el("button", { type: "button", textContent: label, title, className: cls || "", "aria-label": title });
    b.addEventListener("click", action);
    bar.appendChild(b);
    return b;
  };
  const play = button("Play", "Play or pause (Space)", () => toggle(), "primary");
  button("−5s", "Back 5 seconds (J)", () => go(media.currentTime - 5));
  button("+5s", "Forward 5 seconds (L)", () => go(media.currentTime + 5));
  if (video) {
    for (const [label, title, direction] of [["‹ frame", "One frame back (,)", -1], ["frame ›", "One frame forward (.)", 1]]) {
      const b = button(label, title, () => {});
      let held = null;
      const stop = () => { clearInterval(held); held = null; };
      b.addEventListener("pointerdown", () => {
        step(direction);
        held = setTimeout(() => { held = setInterval(() => step(direction, true), 60); }, REPEAT_DELAY_MS);
      });
      b.addEventListener("pointerup", stop);
      b.addEventListener("pointerleave", stop);
      b.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); step(direction); } });
    }
  }
  const speed = el("select", { title: "Playback speed ([ and ])", "aria-label": "Playback speed", "data-testid": "obscode-speed" });
  SPEEDS.forEach((v) => speed.appendChild(el("option", { value: String(v), textContent: v + "x" })));
  speed.value = "1";
  speed.addEventListener("change", () => { media.playbackRate = Number(speed.value); });
  bar.appendChild(speed);
  button("A", "Loop start here (A)", () => mark("a"));
  button("B", "Loop end here (B)", () => mark("b"));
  const unloop = button("No loop", "Clear the loop (X)", () => mark(null));
  const time = el("span", { className: "time", "data-testid": "obscode-time", "aria-live": "off" });
  const frame = el("span", { className: "frame", "data-testid": "obscode-frame" });
  bar.append(time, frame);
  const help = button("?", "Keyboard keys (?)", () => toggleHelp());
  help.classList.add("help-button");

  // --- keyboard scoring: which scale digits go to, and what it holds
  const scoring = el("div", { className: "scoring", "data-testid": "obscode-scoring", "aria-live": "polite" });
  const hint = el("div", { className: "keys", "data-testid": "obscode-keys",
    textContent: "Space play · J/L ±5 s · " + (video ? ",/. frame · " : "") + "A/B loop · S scale · digits score · " +
                 "Enter submit · T note · ? all keys" });  // fmt: skip
  const problem = el("div", { className: "problem", hidden: true, role: "alert" });
  const helpBox = el("div", { className: "help", hidden: true, role: "dialog", "aria-label": "Keyboard keys",
                              "data-testid": "obscode-help" },
    el("h3", { textContent: "Keyboard keys" }),
    el("p", { textContent: "Keys work wherever you last clicked, except while typing in the notes (Esc leaves them)." }),
    el("table", {}, ...KEYS.filter((k) => video || !k[2]).map(([k, what]) =>
      el("tr", {}, el("th", { textContent: k }), el("td", { textContent: what })))),
    el("p", { textContent: "Press ? or Esc to close." }));  // fmt: skip

  // --- notes: one text; lines that start with a time stamp are entries that seek there
  const notes = el("textarea", { id: "obscode-notes", value: data.notes || "", "data-testid": "obscode-notes",
                                 placeholder: "Press T for an entry at the current time" });  // fmt: skip
  const stamp = el("button", { type: "button", textContent: "Insert current time",
                               title: "New note entry at the current time (T)" });  // fmt: skip
  const saved = el("span", { className: "saved", "data-testid": "obscode-notes-state" });
  const list = el("ol", { className: "entries", "data-testid": "obscode-entries", "aria-label": "Note entries" });
  root.append(media, wave, seek, bar, scoring, hint, problem, helpBox,
              el("label", { htmlFor: "obscode-notes", textContent: "Notes" }), notes,
              el("div", { className: "notes-bar" }, stamp, saved), list);  // fmt: skip

  // --- what the controls do
  function go(t) {
    const end = Number.isFinite(media.duration) ? media.duration : Infinity;
    media.currentTime = Math.min(end, Math.max(0, t));
    state.frameTime = null;
    show();
  }
  function toggle() { media.paused ? media.play() : media.pause(); }
  function fps() { return state.data.fps || 25; }
  // The time of the frame on screen: the presented frame's own time once the browser has said it
  // (requestVideoFrameCallback), else the frame currentTime falls in.
  function shownFrameTime() {
    if (state.frameTime !== null) return state.frameTime;
    const last = Number.isFinite(media.duration) ? media.duration - 1e-3 : Infinity;  // at the end: the last frame
    return Math.floor(Math.min(media.currentTime, last) * fps() + 1e-6) / fps();
  }
  function presented(timeout) {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeout);
      media.requestVideoFrameCallback((_, meta) => { clearTimeout(timer); resolve(meta.mediaTime); });
    });
  }
  // One frame back or forward, landing on a real frame, and ask the browser which frame it
  // presented. Back: just before this frame's start is inside the one before, however long.
  // Forward: into the next nominal frame (the file's shortest), again while the browser still
  // presents this one (a variable-rate file's longer frame).
  // Presses made while a step lands are queued; a held key's repeats only while none is waiting.
  async function step(direction, repeat) {
    if (state.stepping) { if (!repeat || !state.queued.length) state.queued.push(direction); return; }
    media.pause();
    state.stepping = (async () => {
      const from = shownFrameTime();
      let target = from;
      for (let tries = 0; tries < 8; tries++) {
        target += direction < 0 && tries === 0 ? -1e-3 : direction / fps();
        if (target < 0 || target > media.duration) break;
        const shown = presented(250);
        // forward: a little into the frame, so that rounding never lands on the one before
        media.currentTime = direction < 0 ? target : target + 0.2 / fps();
        const at = await shown;
        state.frameTime = null;
        if (at === null) continue;  // no new frame presented: still the same (long) frame
        if (direction > 0 ? at > from + 1e-6 : at < from - 1e-6) { state.frameTime = at; break; }
      }
      show();
    })();
    await state.stepping;
    state.stepping = null;
    if (state.queued.length) step(state.queued.shift());
  }
  function faster(by) {
    const i = SPEEDS.indexOf(media.playbackRate) + by;
    media.playbackRate = SPEEDS[Math.min(SPEEDS.length - 1, Math.max(0, i < 0 ? 0 : i))];
    speed.value = String(media.playbackRate);
  }
  function mark(which) {
    if (which === null) { state.a = state.b = null; }
    else {
      state[which] = media.currentTime;
      if (state.a !== null && state.b !== null && state.b <= state.a) state[which === "a" ? "b" : "a"] = null;
    }
    show();
  }
  function insertTime() {
    if (notes.readOnly) return;
    const before = notes.value.slice(0, notes.selectionEnd ?? notes.value.length);
    const lineEnd = notes.value.indexOf("\n", before.length);
    const at = lineEnd === -1 ? notes.value.length : lineEnd;
    const head = notes.value.slice(0, at);
    const text = (head && !head.endsWith("\n") ? "\n" : "") + "[" + clock(media.currentTime) + "] ";
    notes.value = head + text + notes.value.slice(at);
    notes.focus();
    notes.selectionStart = notes.selectionEnd = at + text.length;
    notes.dispatchEvent(new Event("input"));
  }
  stamp.addEventListener("click", insertTime);
  function toggleHelp(open) {
    helpBox.hidden = open === undefined ? !helpBox.hidden : !open;
    help.setAttribute("aria-expanded", String(!helpBox.hidden));
  }

  // --- scores from the keyboard, sent to Python, which saves them as the radios do
  function score(digit) {
    const scale = state.data.scales[state.scale];
    if (!scale || state.data.locked) return;
    const now = performance.now();
    const continued = now - state.typedAt < DIGIT_WINDOW_MS && state.typed !== "";
    let typed = continued && scale.levels.includes(Number(state.typed + digit)) ? state.typed + digit : digit;
    if (digit === ".") {
      if (!continued || state.typed.includes(".")) return false;
      typed = String(Number(state.typed) + 0.5);
    }
    state.typed = typed; state.typedAt = now;
    const value = Number(typed);
    if (!scale.levels.includes(value)) {
      scoring.dataset.problem = typed + " is not a score on " + scale.label;
      showScoring();
      return true;
    }
    delete scoring.dataset.problem;
    scale.pending = value;
    showScoring();
    // A score one more key could continue (5 before . for 5.5) waits a moment for that key, so
    // that the page reruns once for the score meant. Each scale's latest score travels with every
    // key sent, so keys that reach the page together (a score on another scale) lose nothing.
    if (typed !== digit && state.waiting) {  // continued: the longer score replaces it
      clearTimeout(state.waiting.timer);
      state.waiting = null;
    } else flush();
    state.keyed[scale.key] = { score: value, at: pressedAt() };
    const more = digit !== "." && scale.levels.some((level) => level !== value && String(level).startsWith(typed));
    if (more) state.waiting = { timer: setTimeout(flush, CONTINUE_MS) };
    else send("score");
    return true;
  }
  // A score still waiting for its next key is sent now.
  function flush() {
    if (!state.waiting) return false;
    clearTimeout(state.waiting.timer);
    state.waiting = null;
    send("score");
    return true;
  }
  // When a key was pressed, on a clock that only goes forward in this tab: Python acts on each once.
  function pressedAt() { return performance.timeOrigin + performance.now(); }
  // A state value, not a trigger: keys pressed while the page is running arrive together and the
  // latest wins, where Streamlit may keep the first of two triggers.
  function send(name) { state.setStateValue("action", { name, scores: { ...state.keyed }, at: pressedAt() }); }
  function showScoring() {
    const scales = state.data.scales;
    scoring.replaceChildren(el("span", { className: "label", textContent: "Digits score:" }),
      ...scales.map((s, i) => {
        const shown = s.pending ?? s.score;
        return el("span", { className: "chip" + (i === state.scale ? " active" : ""), "data-scale": s.key,
                            "aria-current": i === state.scale ? "true" : "false" },
          s.short + " ", el("b", { textContent: shown === null || shown === undefined ? "–" : String(shown) }));
      }),  // fmt: skip
      el("span", { className: "problem-text", textContent: scoring.dataset.problem || "" }));
    scoring.hidden = !scales.length || state.data.locked;
  }

  // --- the picture of where we are
  function show() {
    const d = media.duration;
    const known = Number.isFinite(d) && d > 0;
    const t = media.currentTime;
    const at = video && media.paused ? shownFrameTime() : t;
    time.textContent = clock(at) + " / " + (known ? clock(d) : "–");
    if (video) frame.textContent = "frame " + (Math.round(at * fps()) + 1);
    played.style.width = known ? (100 * t) / d + "%" : "0";
    seek.setAttribute("aria-valuemax", known ? d.toFixed(3) : "0");
    seek.setAttribute("aria-valuenow", t.toFixed(3));
    seek.setAttribute("aria-valuetext", clock(t) + (known ? " of " + clock(d) : ""));
    if (known) {
      const parts = [];
      for (let i = 0; i < media.buffered.length; i++) {
        parts.push(`transparent ${(100 * media.buffered.start(i)) / d}%`,
                   `var(--buffered) ${(100 * media.buffered.start(i)) / d}%`,
                   `var(--buffered) ${(100 * media.buffered.end(i)) / d}%`,
                   `transparent ${(100 * media.buffered.end(i)) / d}%`);  // fmt: skip
      }
      buffered.style.background = parts.length ? `linear-gradient(to right, ${parts.join(", ")})` : "transparent";
    }
    loop.hidden = !(known && state.a !== null);
    if (!loop.hidden) {
      const end = state.b ?? t;
      loop.style.left = (100 * state.a) / d + "%";
      loop.style.width = (100 * Math.max(0, end - state.a)) / d + "%";
      loop.classList.toggle("closed", state.b !== null);
    }
    unloop.disabled = state.a === null && state.b === null;
    unloop.textContent = state.a !== null && state.b !== null ? "Loop ×" : "No loop";
  }
  // While playing: keep the A-B loop tight and the bar smooth (timeupdate comes only every 250 ms).
  function tick() {
    if (media.paused || !root.isConnected) return;
    if (state.a !== null && state.b !== null && media.currentTime >= state.b) media.currentTime = state.a;
    show();
    requestAnimationFrame(tick);
  }

  const key = "obscode:position:" + data.code;
  media.addEventListener("loadedmetadata", () => {
    const kept = Number(sessionStorage.getItem(key) || 0);
    if (kept > 0 && kept < media.duration) media.currentTime = kept;
    show();
    drawWave();
  });
  media.addEventListener("timeupdate", () => { sessionStorage.setItem(key, String(media.currentTime)); show(); });
  media.addEventListener("progress", show);
  media.addEventListener("seeking", () => { if (!state.stepping) state.frameTime = null; });
  media.addEventListener("play", () => { play.textContent = "Pause"; state.frameTime = null; requestAnimationFrame(tick); });
  media.addEventListener("pause", () => { play.textContent = "Play"; show(); });
  media.addEventListener("error", () => {
    problem.hidden = false;
    problem.textContent = "This recording cannot be played: its media file is missing or your session has ended. " +
      "Reload the page; if it stays, tell the PI.";
  });

  // The entry just before now (a little before, so that pressing again goes on to the one before that).
  function toEntry(direction) {
    const now = media.currentTime, times = entries(notes.value).map((entry) => entry.seconds).sort((x, y) => x - y);
    const found = direction < 0 ? times.filter((t) => t < now - 0.25).pop() : times.find((t) => t > now + 0.25);
    if (found !== undefined) go(found);
  }
  function showEntries() {
    list.replaceChildren(...entries(notes.value).map((entry) => {
      const b = el("button", { type: "button", textContent: clock(entry.seconds), title: "Go to " + clock(entry.seconds) });
      b.addEventListener("click", () => go(entry.seconds));
      return el("li", {}, b, " " + entry.text);
    }));
    list.hidden = !list.children.length;
  }

  // Streamlit calls the component function on every rerun without running its cleanup, so the
  // listeners are attached once, here, and read the latest call's data and callbacks.
  let timer = null;
  const sendNotes = () => {
    clearTimeout(timer);
    if (notes.value !== (root._sent ?? state.data.notes ?? "")) {
      root._sent = notes.value;
      saved.textContent = "Saving notes...";
      state.setStateValue("notes", notes.value);
    }
  };
  notes.addEventListener("input", () => {
    saved.textContent = "Typing...";
    showEntries();
    clearTimeout(timer);
    timer = setTimeout(sendNotes, 500);
  });
  notes.addEventListener("blur", sendNotes);

  const onKey = (e) => {
    if (!root.isConnected) { window.removeEventListener("keydown", onKey, true); return; }
    // A dialog over the page (a flag's reason) keeps its keys: a digit or Enter there must not score or submit.
    if ([...document.querySelectorAll('[role="dialog"]')].some((d) => !root.contains(d))) return;
    // Inside a shadow root e.target is the host element: ask where the key really went.
    const origin = e.composedPath()[0] || e.target;
    const tag = origin && origin.tagName;
    const typing = tag === "TEXTAREA" || tag === "SELECT" || origin.isContentEditable ||
      (tag === "INPUT" && !["radio", "checkbox", "button", "range"].includes(origin.type));
    if (e.key === "Escape" && origin === notes) { notes.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    // A control reached with Tab keeps its own Enter and Space; one that was clicked does not.
    const tabbedTo = origin !== seek && origin.matches && origin.matches("button:focus-visible, a:focus-visible");
    const radio = tag === "INPUT" && origin.type === "radio";
    const k = e.key;
    let done = true;
    if ((k === " " || k === "Enter") && tabbedTo) done = false;
    else if (k === " " || k === "k" || k === "K") toggle();
    else if (k === "j" || k === "J") go(media.currentTime - 5);
    else if (k === "l" || k === "L") go(media.currentTime + 5);
    else if ((k === "ArrowLeft" || k === "ArrowRight") && !radio) go(media.currentTime + (k === "ArrowLeft" ? -1 : 1));
    else if (k === "Home" && !radio) go(0);
    else if (k === "End" && !radio) go(media.duration);
    else if (/^[0-9]$/.test(k)) score(k);
    else if (k === "." && score(".")) {}
    else if ((k === "," || k === ".") && video) step(k === "," ? -1 : 1, e.repeat);
    else if (k === "[" || k === "]") faster(k === "]" ? 1 : -1);
    else if (k === "a" || k === "A") mark("a");
    else if (k === "b" || k === "B") mark("b");
    else if (k === "x" || k === "X") mark(null);
    else if ((k === "s" || k === "S") && state.data.scales.length) {
      const n = state.data.scales.length;
      state.scale = (state.scale + (e.shiftKey ? n - 1 : 1)) % n;
      state.typed = "";
      showScoring();
    }
    else if (k === "Enter" && !state.data.locked) {
      // a score just typed is saved first; the next Enter then asks to confirm it
      if (!flush()) send(state.data.confirming ? "confirm" : "submit");
    }
    else if (k === "Escape") { if (!helpBox.hidden) toggleHelp(false); else if (state.data.confirming) send("cancel"); }
    else if (k === "t" || k === "T") insertTime();
    else if (k === "n" || k === "N") notes.focus();
    else if (k === "e" || k === "E") toEntry(e.shiftKey ? 1 : -1);
    else if (k === "+" || k === "=" || k === "-") zoom(k === "-" ? 0.5 : 2);
    else if (k === "?") toggleHelp();
    else done = false;
    if (done) { e.preventDefault(); e.stopPropagation(); }
  };
  // Capture, so that a focused control or Streamlit's own shortcuts never see a key handled here.
  window.addEventListener("keydown", onKey, true);
  root._obscode = { state, notes, stamp, saved, sendNotes, show, showScoring, showEntries };
  // A recording opened from another is seen from its start: the top of the page.
  document.querySelector("[data-testid=stMain]")?.scrollTo(0, 0);
  showEntries();
  show();
}

// --- anchors: the codebook's words for the score level under the pointer or the keyboard focus,
// shown by that level's scale (on the page's score radios, outside this component) without a rerun.
// A level without words of its own is shown between the nearest ones that have them.
export function anchorText(scale, level) {
  const own = scale.anchors.find(([at]) => at === level);
  if (own) return level + ": " + own[1];
  const below = scale.anchors.filter(([at]) => at < level).pop(), above = scale.anchors.find(([at]) => at > level);
  const side = (a) => a[0] + " (" + a[1] + ")";
  if (below && above) return level + ": between " + side(below) + " and " + side(above);
  return (below || above) ? level + ": see " + side(below || above) : "";
}
let shownScales = [];  // the latest call's scales, for listeners attached once per page
function anchorBox() {
  let box = document.getElementById("obscode-anchor");
  if (!box) {
    // The page's own document (the player's styles are isolated in its shadow root): styled here.
    box = el("div", { id: "obscode-anchor", role: "tooltip", "data-testid": "obscode-anchor", hidden: true });
    Object.assign(box.style, { position: "fixed", zIndex: 1000, maxWidth: "26rem", padding: ".4rem .6rem",
      background: "#1f2430", color: "#fff", borderRadius: "6px", font: "0.85rem/1.35 system-ui, sans-serif",
      boxShadow: "0 4px 16px rgba(0,0,0,.25)", pointerEvents: "none" });  // fmt: skip
    document.body.appendChild(box);
  }
  return box;
}
function showAnchor(event) {
  const option = event.target.closest && event.target.closest("[role=radiogroup] label");
  const group = option && option.closest("[role=radiogroup]");
  const scale = group && shownScales.find((s) => s.label === group.getAttribute("aria-label"));
  const text = scale ? anchorText(scale, Number(option.innerText.trim())) : "";
  const box = anchorBox();
  box.hidden = !text;
  if (!text) return;
  box.textContent = text;
  // Above the scale's levels (over its title), so that none of its levels, nor the next scale's, is
  // hidden while the coder points; below them when the page is scrolled too far for that.
  const r = option.getBoundingClientRect(), levels = group.getBoundingClientRect();
  const above = levels.top - box.offsetHeight - 6;
  box.style.top = (above >= 8 ? above : levels.bottom + 6) + "px";
  box.style.left = Math.max(8, Math.min(r.left, window.innerWidth - box.offsetWidth - 8)) + "px";
}
function hideAnchor(event) {
  if (!event.relatedTarget || !(event.relatedTarget.closest && event.relatedTarget.closest("[role=radiogroup] label"))) {
    anchorBox().hidden = true;
  }
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  let root = parentElement.querySelector(".obscode-player");
  if (!root) {
    root = el("div", { className: "obscode-player" });
    parentElement.appendChild(root);
  }
  if (root.dataset.src !== data.src) build(root, data);
  shownScales = data.scales;
  if (!window.obscodeAnchors) {
    window.obscodeAnchors = true;
    document.addEventListener("mouseover", showAnchor);
    document.addEventListener("focusin", showAnchor);
    document.addEventListener("mouseout", hideAnchor);
    document.addEventListener("focusout", hideAnchor);
  }
  const { state, notes, stamp, saved, sendNotes, showScoring, showEntries } = root._obscode;
  const previous = state.data;
  state.data = data;
  state.setStateValue = setStateValue;
  // Notes changed in the database by something other than this window (another window): show
  // what is stored, as the page's message says.
  if (data.notes !== previous.notes && data.notes !== root._sent && data.notes !== notes.value) {
    notes.value = data.notes; root._sent = data.notes;
    showEntries();
  }
  notes.readOnly = !!data.locked;
  stamp.disabled = !!data.locked;
  if (data.locked) saved.textContent = "Submitted: notes are locked.";
  else if (data.saved_label && (data.label_at !== previous.label_at || data.saved_notes === notes.value)) {
    saved.textContent = data.saved_label;
  }
  state.scale = Math.min(state.scale, Math.max(0, data.scales.length - 1));
  showScoring();
  return sendNotes;
}
