"""A coder who never touches the mouse: three play videos and one session audio coded with keys alone.

The study is the test's own (three short videos for an EA rater, one session audio for a
fidelity coder, served by `obscode run`), so that it can say exactly what is stored afterwards
whatever the other browser tests did to the demo study. Once the coding page has loaded, only
``page.keyboard`` acts, and a listener in every document the browser opens reports any mouse or
pointer event: there must be none.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from playwright.sync_api import expect

from coding_app import blinded
from coding_app.accounts import account_named, add_account
from coding_app.assignments import assign
from coding_app.codebook import load_codebook
from coding_app.imports.manifest import import_manifest
from coding_app.media import MediaStore
from coding_app.store import Store
from coding_app.study_setup import initialise

from .conftest import LOGIN_PATH, ROOT, SCREENSHOTS, VENV_BIN, _free_port, media, serving
from .test_coding import checked, choose, scale_groups, wait_checked

RATER, FIDELITY, PASSWORD = "keys.rater", "keys.fidelity", "keyboard-only-1"
# Coders of the same three videos for the tests of the page's reruns, so that RATER's are theirs alone.
STEADY, FAILOVER = "keys.steady", "keys.failover"
SENSITIVITY, NON_INTRUSIVENESS = "ea_sensitivity", "ea_non_intrusiveness"
SECONDS = 6
MOUSE_EVENTS = (
    "mousedown",
    "mouseup",
    "click",
    "dblclick",
    "auxclick",
    "contextmenu",
    "pointerdown",
    "pointerup",
    "wheel",
)
# Installed in every document the browser opens from then on; reports to Python, so that no reload loses a report.
REPORT_MOUSE = f"""for (const type of {json.dumps(MOUSE_EVENTS)}) window.addEventListener(type, (e) => {{
  const target = e.composedPath()[0];
  window.mouseEventSeen(type + " on " + (target && (target.tagName || target.nodeName)));
}}, true);"""


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@dataclass
class KeyboardStudy:
    base: str
    """The app's URL."""
    store: Store
    env: dict[str, str]
    """What `obscode run` serves the study with (for another app process of it)."""

    def account(self, name: str):
        with self.store.read() as db:
            return account_named(db, name)


@contextmanager
def app_process(study: KeyboardStudy, port: int, log):
    """Another `obscode run` of the study, on ``port``."""
    command = [str(VENV_BIN / "obscode"), "run", "--port", str(port)]
    with serving(command, f"http://127.0.0.1:{port}/_stcore/health", log, cwd=ROOT, env=study.env) as server:
        yield server


@pytest.fixture(scope="module")
def keyboard_study(tmp_path_factory):
    """Three 6-second videos (25 fps) for RATER (and STEADY and FAILOVER) and a 10-second session audio for
    FIDELITY; yields a :class:`KeyboardStudy`."""
    root = tmp_path_factory.mktemp("keyboard-study")
    sources = root / "sources"
    sources.mkdir()
    rows = ["recording_id,participant_id,site,arm,timepoint,kind,session,clinician,path"]
    for n in range(3):
        ffmpeg(
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=320x240:rate=25:duration={SECONDS}",
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={330 + 110 * n}:duration={SECONDS}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            str(sources / f"play{n}.mp4"),
        )
        rows.append(f"K{n},Q{n},North,,baseline,video,,,play{n}.mp4")
    ffmpeg("-f", "lavfi", "-i", "sine=frequency=220:duration=10", "-c:a", "aac", str(sources / "session.m4a"))
    rows.append("K3,Q0,North,,,audio,1,clinician K,session.m4a")
    (sources / "manifest.csv").write_text("\n".join(rows) + "\n")
    url = f"sqlite:///{root / 'keys.db'}"
    store = Store(url)
    initialise(store, load_codebook(), "test")
    import_manifest(store, MediaStore(root / "media"), sources / "manifest.csv", "test")
    with store.write() as db:
        add_account(db, RATER, "coder", PASSWORD, "test")
        add_account(db, FIDELITY, "fidelity", PASSWORD, "test")
        for name in (STEADY, FAILOVER):
            add_account(db, name, "coder", PASSWORD, "test")
    assign(store, [RATER], kind="video", seed=3, actor="test")
    assign(store, [FIDELITY], kind="audio", seed=3, actor="test")
    assign(store, [STEADY, FAILOVER], kind="video", seed=3, actor="test")
    port = _free_port()
    study = KeyboardStudy(
        f"http://127.0.0.1:{port}",
        store,
        {**os.environ, "OBSCODE_DATABASE_URL": url, "OBSCODE_MEDIA_DIR": str(root / "media")},
    )
    with app_process(study, port, root / "server.log"):
        yield study
    store.engine.dispose()


# --------------------------------------------------------------------------- helpers


def report_mouse_events(page) -> list[str]:
    """From the next page the browser opens on, every mouse or pointer event it sees is listed here."""
    seen: list[str] = []
    page.expose_function("mouseEventSeen", lambda what: seen.append(what))
    page.add_init_script(REPORT_MOUSE)
    return seen


def sign_in_with_keys(page, base: str, name: str) -> None:
    page.goto(base + LOGIN_PATH)
    page.focus("#name")
    page.keyboard.type(name)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def idle(page) -> None:
    expect(page.locator("[data-testid=stApp]")).to_have_attribute("data-test-script-state", "notRunning")


def opened(page, previous: str | None = None) -> str:
    """The code of the recording on screen once it has loaded (another than ``previous``), its media playable."""
    heading = page.get_by_role("heading", name=re.compile(r"^Recording \w+$"))
    if previous is not None:
        expect(heading).not_to_have_text(f"Recording {previous}")
    expect(heading).to_be_visible()
    code = heading.inner_text().split()[-1]
    assert f"recording={code}" in page.url
    idle(page)
    expect(media(page)).to_have_count(1)  # the last recording's player is gone
    page.wait_for_function("m => m.readyState >= 2 && m.currentTime === 0", arg=media(page).element_handle())
    return code


def at(page, seconds: float) -> None:
    page.wait_for_function(
        "([m, t]) => Math.abs(m.currentTime - t) < 1e-3", arg=[media(page).element_handle(), seconds]
    )


def note(page, text: str) -> None:
    """T: a new entry at the current time; the text typed into it; Esc leaves the notes."""
    page.keyboard.press("t")
    page.keyboard.type(text)
    page.keyboard.press("Escape")


def submit_and_next(page, big: list[str]) -> None:
    """Enter asks to confirm, showing each scale's score big with its class; Enter again submits."""
    page.keyboard.press("Enter")
    expect(page.get_by_text(re.compile(r"^Submit this recording\?"))).to_be_visible()
    expect(page.get_by_role("heading", level=4)).to_have_text(big)
    page.keyboard.press("Enter")


# --------------------------------------------------------------------------- the test


SENSITIVE = "Sensitive: warm, attuned and responsive for most of the session; lapses are brief."
COUNT_RUNS = """() => {
  const app = document.querySelector("[data-testid=stApp]");
  window.scriptRuns = 0;
  new MutationObserver(() => { if (app.dataset.testScriptState === "running") window.scriptRuns++; })
    .observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
}"""


def option(group, label: str):
    return group.locator("[data-testid=stRadioOption]").filter(has_text=re.compile(rf"^{re.escape(label)}$"))


def test_the_anchor_of_the_level_under_the_pointer_or_the_focus_shows_there_without_a_rerun(
    browser_page, keyboard_study
):
    base = keyboard_study.base
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in_with_keys(page, base, RATER)
    page.goto(base + "/code")
    opened(page)
    page.evaluate(COUNT_RUNS)
    sensitivity, non_intrusiveness = scale_groups(page).nth(0), scale_groups(page).nth(1)
    anchor = page.get_by_test_id("obscode-anchor")

    option(sensitivity, "5.5").hover()
    expect(anchor).to_have_text(f"5.5: {SENSITIVE}")
    level, words = option(sensitivity, "5.5").bounding_box(), anchor.bounding_box()
    levels = sensitivity.bounding_box()  # just above the scale's levels: none of them is hidden
    assert 0 <= levels["y"] - (words["y"] + words["height"]) <= 20, (levels, words)
    assert words["x"] <= level["x"] + level["width"] and words["x"] + words["width"] >= level["x"], (level, words)
    page.screenshot(path=str(SCREENSHOTS / "code-anchor-1280.png"))
    option(sensitivity, "6").hover()  # no words of its own: the nearest levels' words
    expect(anchor).to_have_text(
        f"6: between 5.5 ({SENSITIVE}) and 7 (Highly sensitive: consistently attuned, "
        "warm and flexible; repairs quickly after any misstep.)"
    )
    page.mouse.move(5, 5)
    expect(anchor).to_be_hidden()

    option(non_intrusiveness, "3").locator("input").focus()
    expect(anchor).to_have_text("3: Intrusive: frequently takes over play or interrupts the child's lead.")
    assert page.evaluate("window.scriptRuns") == 0
    assert [checked(group) for group in (sensitivity, non_intrusiveness)] == [[], []]


def test_three_videos_and_a_session_audio_coded_with_the_keyboard_alone(browser_page, new_context, keyboard_study):
    base, store = keyboard_study.base, keyboard_study.store
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in_with_keys(page, base, RATER)
    mouse = report_mouse_events(page)
    page.goto(base + "/code")  # the first recording of the queue

    # 1: half points, a loop, two timestamped notes and a jump back to each
    first = opened(page)
    groups = scale_groups(page)
    for key in ("5", ".", "s", "4"):
        page.keyboard.press(key)
    wait_checked(groups.nth(0), "5.5")
    wait_checked(groups.nth(1), "4")
    for key in ("ArrowRight", "a", "ArrowRight", "ArrowRight", "b", "Home"):  # the loop 1 s to 3 s
        page.keyboard.press(key)
    at(page, 0)
    expect(page.locator(".obscode-player .loop.closed")).to_be_visible()
    handle = media(page).element_handle()
    handle.evaluate(
        "m => { m.loopedTo = []; "
        "m.addEventListener('seeked', () => { if (!m.paused) m.loopedTo.push(m.currentTime); }); }"
    )
    page.keyboard.press("Space")
    page.wait_for_function("m => m.loopedTo.some((t) => Math.abs(t - 1) < 1e-3)", arg=handle, timeout=15_000)
    page.keyboard.press("k")
    assert handle.evaluate("m => m.paused && m.currentTime >= 1 && m.currentTime <= 3.1"), handle.evaluate(
        "m => m.currentTime"
    )
    page.keyboard.press("x")
    expect(page.locator(".obscode-player .loop")).to_be_hidden()
    for key in ("Home", "ArrowRight"):
        page.keyboard.press(key)
    at(page, 1)
    note(page, "hand on the toy")
    for key in ("ArrowRight", "ArrowRight"):
        page.keyboard.press(key)
    at(page, 3)
    note(page, "looks away")
    first_notes = "[0:00:01.000] hand on the toy\n[0:00:03.000] looks away"
    expect(page.get_by_test_id("obscode-notes")).to_have_value(first_notes)
    expect(page.get_by_test_id("obscode-entries").get_by_role("listitem")).to_have_count(2)
    page.keyboard.press("End")
    page.keyboard.press("e")
    at(page, 3)
    page.keyboard.press("e")
    at(page, 1)
    expect(page.get_by_test_id("obscode-notes-state")).to_have_text(re.compile(r"^Notes saved at"), timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "code-keyboard-video-1280.png"))
    submit_and_next(
        page,
        ["Maternal sensitivity (EA Scales): 5.5 (Sensitive)", "Maternal non-intrusiveness (EA Scales): 4 (Intrusive)"],
    )

    # 2: a score changed before it is submitted, Shift+S back to the first scale; opens at the top, at 0
    second = opened(page, first)
    assert page.locator("[data-testid=stMain]").evaluate("e => e.scrollTop") == 0
    groups = scale_groups(page)
    for key in ("2", "s", "6", "."):
        page.keyboard.press(key)
    wait_checked(groups.nth(0), "2")
    wait_checked(groups.nth(1), "6.5")
    page.keyboard.press("Shift+S")
    page.keyboard.press("3")
    wait_checked(groups.nth(0), "3")
    submit_and_next(
        page,
        [
            "Maternal sensitivity (EA Scales): 3 (Inconsistent or insensitive)",
            "Maternal non-intrusiveness (EA Scales): 6.5 (Non-intrusive)",
        ],
    )

    # 3: the last of the queue
    third = opened(page, second)
    groups = scale_groups(page)
    for key in ("7", "s", "2", "."):
        page.keyboard.press(key)
    wait_checked(groups.nth(0), "7")
    wait_checked(groups.nth(1), "2.5")
    submit_and_next(
        page,
        ["Maternal sensitivity (EA Scales): 7 (Sensitive)", "Maternal non-intrusiveness (EA Scales): 2.5 (Intrusive)"],
    )
    expect(page.get_by_text("Submitted and locked. Thank you.")).to_be_visible()
    assert mouse == [], f"mouse events during keyboard-only coding: {mouse}"

    # the session audio, by the fidelity coder
    listener = new_context().new_page()
    listener.set_viewport_size({"width": 1280, "height": 720})
    sign_in_with_keys(listener, base, FIDELITY)
    heard = report_mouse_events(listener)
    listener.goto(base + "/code")
    session = opened(listener)
    expect(listener.get_by_test_id("obscode-waveform")).to_be_visible()
    listener.keyboard.press("4")
    wait_checked(scale_groups(listener).nth(0), "4")
    for key in ("ArrowRight", "ArrowRight"):
        listener.keyboard.press(key)
    at(listener, 2)
    note(listener, "agenda set")
    listener.keyboard.press("l")
    at(listener, 7)
    note(listener, "praise")
    listener.keyboard.press("e")
    at(listener, 2)
    expect(listener.get_by_test_id("obscode-notes-state")).to_have_text(re.compile(r"^Notes saved at"), timeout=15_000)
    listener.screenshot(path=str(SCREENSHOTS / "code-keyboard-audio-1280.png"))
    submit_and_next(listener, ["VIPP-PMH adherence to the manual: 4 (Acceptable fidelity)"])
    expect(listener.get_by_text("Submitted and locked. Thank you.")).to_be_visible()
    assert heard == [], f"mouse events during keyboard-only coding: {heard}"

    with store.read() as db:
        rater, fidelity = account_named(db, RATER), account_named(db, FIDELITY)
    expected = {
        (rater, first): ({"ea_sensitivity": 5.5, "ea_non_intrusiveness": 4.0}, first_notes),
        (rater, second): ({"ea_sensitivity": 3.0, "ea_non_intrusiveness": 6.5}, ""),
        (rater, third): ({"ea_sensitivity": 7.0, "ea_non_intrusiveness": 2.5}, ""),
        (fidelity, session): ({"vipp_adherence": 4.0}, "[0:00:02.000] agenda set\n[0:00:07.000] praise"),
    }
    for (account, code), (scores, notes) in expected.items():
        task = blinded.task(store, account, code)
        assert {key: (rating.score, rating.status) for key, rating in task.ratings.items()} == {
            key: (score, "submitted") for key, score in scores.items()
        }, code
        assert task.notes == notes, code


def test_the_player_stays_as_it_is_through_score_keys_and_a_change_made_in_another_window(browser_page, keyboard_study):
    """A score key reruns the scores, not the player: the same player stays at its place, speed and loop, also
    when the rerun says that another window changed a score (that message once came before the player, which,
    moved, was a new one: at normal speed, with no loop)."""
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    sign_in_with_keys(page, keyboard_study.base, STEADY)
    page.goto(keyboard_study.base + "/code")
    code = opened(page)
    for key in ("]", "]", "ArrowRight", "a", "ArrowRight", "b"):  # 1.5x; the loop 1 s to 2 s, at 2 s
        page.keyboard.press(key)
    at(page, 2)
    media(page).evaluate("m => { m.obscodeMark = 'the first player'; }")
    groups = scale_groups(page)
    page.keyboard.press("5")
    wait_checked(groups.nth(0), "5")
    blinded.save_draft(keyboard_study.store, keyboard_study.account(STEADY), code, NON_INTRUSIVENESS, 4.0)
    page.keyboard.press("6")
    expect(page.get_by_text("Changed in another window: what is saved now is shown here.")).to_be_visible()
    wait_checked(groups.nth(0), "6")
    wait_checked(groups.nth(1), "4")
    idle(page)
    expect(media(page)).to_have_count(1)
    assert media(page).evaluate("m => [m.obscodeMark, m.playbackRate]") == ["the first player", 1.5]
    at(page, 2)
    expect(page.locator(".obscode-player .loop.closed")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "code-changed-elsewhere-1280.png"))


@pytest.mark.parametrize("how", ["key", "click"])
def test_the_first_score_after_a_failover_is_stored_and_none_keyed_before_it_again(
    browser_page, keyboard_study, tmp_path, how
):
    """The app process serving a coder dies (SIGKILL) and a new one takes over the page on the same address, as
    a replica behind the proxy does: the browser reconnects to a new Streamlit session. Its first score, keyed
    or clicked, is stored (it was lost: the new session had never run the page), and the score keyed before the
    failover is not saved again over a change made since in another window."""
    page = browser_page
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    account = keyboard_study.account(FAILOVER)
    code = blinded.queue(keyboard_study.store, account)[["key", "click"].index(how)].code
    app = page.locator("[data-testid=stApp]")
    with app_process(keyboard_study, port, tmp_path / "first.log") as first:
        sign_in_with_keys(page, base, FAILOVER)
        page.goto(f"{base}/code?recording={code}")
        opened(page)
        groups = scale_groups(page)
        page.keyboard.press("5")
        wait_checked(groups.nth(0), "5")
        idle(page)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=15)
        expect(app).not_to_have_attribute("data-test-connection-state", "CONNECTED")
    blinded.save_draft(keyboard_study.store, account, code, SENSITIVITY, 6.0)  # in another window, meanwhile
    with app_process(keyboard_study, port, tmp_path / "second.log"):
        expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=60_000)
        wait_checked(groups.nth(0), "6")  # the new process has run the page: what is stored now
        idle(page)
        if how == "key":
            page.keyboard.press("s")
            page.keyboard.press("3")
        else:
            choose(groups.nth(1), "3")
        wait_checked(groups.nth(1), "3")
        idle(page)
    ratings = blinded.task(keyboard_study.store, account, code).ratings
    assert {key: rating.score for key, rating in ratings.items()} == {SENSITIVITY: 6.0, NON_INTRUSIVENESS: 3.0}
