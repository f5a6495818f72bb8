"""The coding player in Debian's chromium: the seek bar, frame steps on files of several frame
rates, keys wherever the focus is, and a recording coded with the keyboard alone.

The player's own tests mount it alone (player_app.py, its media from a small static server);
the coding-flow tests use the demo study's `obscode run` (conftest.demo).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from coding_app.web.assets import module_urls
from coding_app.web.runtime import MEDIA_PATH

from .conftest import (
    ROOT,
    SCREENSHOTS,
    VENV_BIN,
    _free_port,
    claim,
    media,
    open_recording,
    queue_rows,
    reran,
    serving,
    settle,
    sign_in,
    wait_for_media,
)
from .test_coding import choose, scale_groups, wait_checked

RATES = (10, 15, 25, 30)
SECONDS = 3


def _encode(path: Path, sources: list[str]) -> None:
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            *sources,
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
            str(path),
        ],
        check=True,
    )


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> Path:
    """A clip per frame rate, and one audio-only file."""
    folder = tmp_path_factory.mktemp("player-clips")
    tone = ["-f", "lavfi", "-i", f"sine=frequency=440:duration={SECONDS}"]
    for rate in RATES:
        _encode(
            folder / f"r{rate}.mp4",
            ["-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={rate}:duration={SECONDS}", *tone],
        )
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *tone, "-c:a", "aac", str(folder / "tone.m4a")], check=True
    )
    # variable frame rate: 15 frames of 2/15 s, then frames of 1/30 s
    _encode(
        folder / "vfr.mp4",
        [
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=320x240:rate=30:duration={SECONDS}",
            *tone,
            "-vf",
            "setpts='if(lt(N,15),N*4,60+(N-15))/(30*TB)'",
            "-fps_mode",
            "vfr",
        ],
    )
    return folder


def frame_times(path: Path) -> list[float]:
    """Each video frame's presentation time, as ffprobe reads the file."""
    out = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pts_time",
            "-of",
            "csv=p=0",
            str(path),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return sorted(float(line.strip().rstrip(",")) for line in out.split() if line.strip())


@pytest.fixture(scope="module")
def player_server(clips, tmp_path_factory):
    """The player alone (player_launcher.py: player_app.py with the clips, their envelopes and the drawing library)."""
    port = _free_port()
    command = [
        str(VENV_BIN / "streamlit"),
        "run",
        str(Path(__file__).with_name("player_launcher.py")),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    log = tmp_path_factory.mktemp("player-server") / "server.log"
    env = {**os.environ, "PLAYER_CLIPS": str(clips)}
    with serving(command, f"http://127.0.0.1:{port}/_stcore/health", log, cwd=ROOT, env=env):
        yield f"http://127.0.0.1:{port}", clips


def open_player(page, player_server, name: str, kind: str, measured: bool = True) -> None:
    """The player on one of the clips, measured as an import measures it (or not: no frame rate, no waveform)."""
    app, clips = player_server
    query = {"src": f"{MEDIA_PATH}/{name}", "kind": kind, **({"file": str(clips / name)} if measured else {})}
    page.goto(f"{app}/?{urlencode(query)}")
    settle(page)
    wait_for_media(page, ready_state=2)


def current_time(page) -> float:
    return media(page).evaluate("m => m.currentTime")


def wait_for(check, what: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, what()
        time.sleep(0.05)
    return result


def frame_label(page) -> str:
    return page.locator("[data-testid=obscode-frame]").inner_text()


def on_frame(page, times: list[float], index: int) -> None:
    """The player shows frame ``index`` (0-based): currentTime lies in that frame of the file, and says so."""
    wait_for(
        lambda: frame_label(page) == f"frame {index + 1}",
        lambda: f"expected frame {index + 1}, the player shows {frame_label(page)!r} at {current_time(page):.4f} s",
    )
    now = current_time(page)
    end = times[index + 1] if index + 1 < len(times) else float("inf")
    assert times[index] <= now < end, f"currentTime {now:.4f} s is not in frame {index} [{times[index]:.4f}, {end:.4f})"


# --------------------------------------------------------------------------- frames


@pytest.mark.parametrize("rate", RATES)
def test_frame_keys_step_one_real_frame_at_the_files_own_rate(browser_page, player_server, clips, rate):
    page = browser_page
    times = frame_times(clips / f"r{rate}.mp4")
    assert len(times) == rate * SECONDS
    open_player(page, player_server, f"r{rate}.mp4", "video")
    on_frame(page, times, 0)
    for index in range(1, 8):
        page.keyboard.press(".")
        on_frame(page, times, index)
    for index in (6, 5, 4):
        page.keyboard.press(",")
        on_frame(page, times, index)
    page.keyboard.press("End")
    wait_for(lambda: current_time(page) > SECONDS - 0.1, lambda: f"End went to {current_time(page)}")
    page.keyboard.press(",")
    page.keyboard.press(",")  # pressed while the first step lands: both count
    on_frame(page, times, len(times) - 3)


def test_frame_keys_step_one_real_frame_of_a_variable_frame_rate_file(browser_page, player_server, clips):
    page = browser_page
    times = frame_times(clips / "vfr.mp4")
    assert times[1] - times[0] > 0.13 and times[16] - times[15] < 0.034  # long frames, then short ones
    open_player(page, player_server, "vfr.mp4", "video")
    for index in range(1, 20):  # across the change of rate
        page.keyboard.press(".")
        on_frame_time(page, times, index)
    for index in range(18, 12, -1):
        page.keyboard.press(",")
        on_frame_time(page, times, index)


def on_frame_time(page, times: list[float], index: int) -> None:
    """currentTime lies in frame ``index`` of a variable-rate file (its frame numbers are nominal)."""
    end = lambda: times[index + 1] if index + 1 < len(times) else float("inf")  # noqa: E731
    wait_for(
        lambda: times[index] <= current_time(page) < end(),
        lambda: f"currentTime {current_time(page):.4f} s is not in frame {index} [{times[index]:.4f}, {end():.4f})",
    )


def test_holding_a_frame_key_steps_repeatedly_and_lands_on_a_frame(browser_page, player_server, clips):
    page = browser_page
    times = frame_times(clips / "r30.mp4")
    open_player(page, player_server, "r30.mp4", "video")
    page.keyboard.down(".")
    for _ in range(15):  # a held key repeats its keydown
        time.sleep(0.05)
        page.keyboard.down(".")
    page.keyboard.up(".")
    time.sleep(1)
    shown = int(frame_label(page).split()[-1]) - 1
    assert 2 <= shown <= 16, f"holding '.' for 16 key repeats moved {shown} frames"
    on_frame(page, times, shown)


# --------------------------------------------------------------------------- seek bar


def test_the_seek_bar_is_an_aria_slider_that_seeks_by_click_drag_and_keys(browser_page, player_server):
    page = browser_page
    open_player(page, player_server, "r25.mp4", "video")
    bar = page.get_by_role("slider", name="Position")
    expect(bar).to_have_attribute("aria-valuemax", f"{SECONDS:.3f}")
    expect(bar).to_have_attribute("aria-valuenow", "0.000")
    expect(bar).to_have_attribute("aria-valuetext", "0:00:00.000 of 0:00:03.000")

    box = bar.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.25, y)
    expect(page.locator(".obscode-player .hover")).to_have_text(re.compile(r"^0:00:00\.7[45]\d$"))
    page.mouse.click(box["x"] + box["width"] * 0.5, y)
    wait_for(
        lambda: abs(current_time(page) - SECONDS / 2) < 0.05,
        lambda: f"a click at the middle went to {current_time(page)}",
    )
    expect(bar).to_have_attribute("aria-valuenow", re.compile(r"^1\.[45]\d\d$"))
    expect(bar).to_have_attribute("aria-valuetext", re.compile(r"^0:00:01\.[45]\d\d of 0:00:03\.000$"))

    page.mouse.move(box["x"] + box["width"] * 0.5, y)  # drag from the middle to 80 %
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=5)
    page.mouse.up()
    wait_for(
        lambda: abs(current_time(page) - SECONDS * 0.8) < 0.05, lambda: f"a drag to 80 % went to {current_time(page)}"
    )

    bar.focus()
    page.keyboard.press("Home")
    wait_for(lambda: current_time(page) == 0, lambda: f"Home went to {current_time(page)}")
    page.keyboard.press("ArrowRight")
    expect(bar).to_have_attribute("aria-valuenow", "1.000")
    expect(bar).to_have_attribute("aria-valuetext", "0:00:01.000 of 0:00:03.000")
    played = page.locator(".obscode-player .played").evaluate("e => e.getBoundingClientRect().width")
    assert abs(played - box["width"] / SECONDS) < 3, f"the played part is {played:.0f} px of {box['width']:.0f}"
    buffered = page.locator(".obscode-player .buffered").evaluate("e => getComputedStyle(e).backgroundImage")
    assert "linear-gradient" in buffered, f"nothing is drawn as buffered: {buffered!r}"


# --------------------------------------------------------------------------- keys


def actions(page) -> list[dict]:
    """What the player sent to Python (player_app lists it)."""
    return json.loads(page.locator("[data-testid=stCode] code").inner_text())


def test_score_keys_send_the_chosen_scales_score_with_half_points(browser_page, player_server):
    page = browser_page
    open_player(page, player_server, "r25.mp4", "video")
    page.keyboard.press("5")
    page.keyboard.press(".")  # right after a digit: a half point, not a frame
    settle(page)
    page.keyboard.press("s")
    page.keyboard.press("9")  # not on the scale: said, and nothing sent
    expect(page.get_by_test_id("obscode-scoring")).to_contain_text("9 is not a score on Maternal non-intrusiveness")
    page.keyboard.press("3")  # waits a moment for a possible half point, then is sent: Enter before that would send it
    wait_for(lambda: any(a.get("score") == 3 for a in actions(page)), lambda: f"3 was not sent: {actions(page)}")
    page.keyboard.press("Enter")
    # The page counts a run only once the player's message reaches it: wait for the submit itself.
    wait_for(
        lambda: any(a.get("name") == "submit" for a in actions(page)), lambda: f"Enter sent nothing: {actions(page)}"
    )
    sent = [{k: v for k, v in a.items() if k != "at"} for a in actions(page)]
    assert sent[-3:] == [
        {"name": "score", "scale": "ea_sensitivity", "score": 5.5},
        {"name": "score", "scale": "ea_non_intrusiveness", "score": 3},
        {"name": "submit"},
    ], sent
    assert sent[0]["score"] in (5, 5.5)  # 5 was sent at once, unless the half point overtook it
    assert current_time(page) == 0, "the '.' after a digit stepped a frame"


def test_quick_score_keys_on_two_scales_are_both_sent_each_to_its_scale(browser_page, player_server):
    """5 waits for a possible half point; S and 6 then . follow within that wait: 5 goes to the first
    scale, 6.5 to the second, however close together they reach the page."""
    page = browser_page
    open_player(page, player_server, "r25.mp4", "video")
    for key in ("5", "s", "6", "."):
        page.keyboard.press(key)
    expect(page.get_by_test_id("stCode")).to_contain_text('"ea_non_intrusiveness"')
    settle(page)
    assert actions(page) == [
        {"name": "score", "scale": "ea_sensitivity", "score": 5},
        {"name": "score", "scale": "ea_non_intrusiveness", "score": 6.5},
    ]


def test_keys_pressed_in_a_dialog_over_the_player_stay_in_the_dialog(browser_page, player_server):
    """A coder choosing a flag's reason and pressing digits or Enter there neither scores nor submits the recording
    (Enter twice was a confirmed submit); Escape closes the dialog."""
    page = browser_page
    open_player(page, player_server, "r25.mp4", "video")
    page.get_by_role("button", name="Open a dialog").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("No sound").click()
    for key in ("5", "Enter", "Enter", "s", "6"):
        page.keyboard.press(key)
    dialog.get_by_role("button", name="Confirm").click()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    page.keyboard.press("7")  # the player's keys are back once the dialog is gone
    expect(page.get_by_test_id("stCode")).to_contain_text('"score"')
    assert [{k: v for k, v in a.items() if k != "at"} for a in actions(page)] == [
        {"name": "score", "scale": "ea_sensitivity", "score": 7}
    ]


def test_the_key_hint_and_help_list_frame_keys_for_video_only(browser_page, player_server):
    page = browser_page
    for name, kind, frames in (("tone.m4a", "audio", False), ("r25.mp4", "video", True)):
        open_player(page, player_server, name, kind)
        hint = page.get_by_test_id("obscode-keys").inner_text()
        assert ("frame" in hint) is frames, f"{kind}: {hint!r}"
        page.keyboard.press("?")
        help = page.get_by_role("dialog", name="Keyboard keys")
        expect(help).to_be_visible()
        assert ("frame" in help.inner_text()) is frames, f"{kind}: {help.inner_text()!r}"
        for key in ("Space or K", "A / B", "Enter", "T", "E / Shift+E", "digits"):
            expect(help).to_contain_text(key)
        page.keyboard.press("Escape")
        expect(help).to_be_hidden()
        expect(page.get_by_role("button", name=re.compile(r"frame"))).to_have_count(2 if frames else 0)


def test_an_a_b_loop_replays_the_marked_stretch(browser_page, player_server):
    page = browser_page
    open_player(page, player_server, "tone.m4a", "audio")
    for key in ("ArrowRight", "a", "ArrowRight", "b", "Home"):  # A at 1 s, B at 2 s, back to the start
        page.keyboard.press(key)
    media(page).evaluate("m => { m.currentTime = 1.5; }")
    page.keyboard.press("Space")
    time.sleep(1.5)  # past B once at least
    now = current_time(page)
    page.keyboard.press("Space")
    assert 1.0 <= now <= 2.1, f"1.5 s after starting at 1.5 s inside the loop 1-2 s, the player is at {now:.2f} s"
    page.keyboard.press("x")
    expect(page.get_by_role("button", name="Clear the loop (X)")).to_be_disabled()


# --------------------------------------------------------------------------- coding with the keyboard (the demo study)


def test_keys_act_after_a_score_is_clicked(browser_page, demo):
    """Focus left on a score's radio does not swallow the player's keys."""
    page = browser_page
    sign_in(page, demo, "rater.one")
    code = claim(demo, queue_rows(page))
    open_recording(page, demo, code)
    wait_for_media(page)
    choose(scale_groups(page).nth(0), "3")
    settle(page)
    page.keyboard.press("l")
    wait_for(
        lambda: current_time(page) == 5, lambda: f"L after clicking a score: the player is at {current_time(page)} s"
    )
    page.keyboard.press("Space")
    wait_for(lambda: not media(page).evaluate("m => m.paused"), lambda: "Space after clicking a score did not play")
    page.keyboard.press("Space")
    wait_checked(scale_groups(page).nth(0), "3")


# --------------------------------------------------------------------------- waveform

PAINTED = """w => [...(w.firstElementChild.shadowRoot || w).querySelectorAll('canvas')].some(c => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let i = 3; i < d.length; i += 4) if (d[i]) return true;
  return false;
})"""
WAVE_TEXT = "w => (w.firstElementChild.shadowRoot || w).textContent"
WAVE_SCROLL = (
    "w => { const s = (w.firstElementChild.shadowRoot || w).querySelector('.scroll'); "
    "return [s.scrollWidth, s.clientWidth]; }"
)


def test_the_waveform_is_drawn_from_the_measured_envelope_with_a_ruler_and_a_click_seeks(browser_page, player_server):
    page = browser_page
    open_player(page, player_server, "tone.m4a", "audio")
    wave = page.get_by_test_id("obscode-waveform")
    expect(wave).to_be_visible()
    wait_for(lambda: wave.evaluate(PAINTED), lambda: "the waveform's canvas is blank")
    assert re.search(r"\b2\b", wave.evaluate(WAVE_TEXT)), f"no time ruler: {wave.evaluate(WAVE_TEXT)!r}"
    box = wave.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + 20)
    wait_for(
        lambda: abs(current_time(page) - SECONDS * 0.75) < 0.1, lambda: f"a click at 75 % went to {current_time(page)}"
    )
    before = wave.evaluate(WAVE_SCROLL)
    assert before[0] == before[1], f"the whole recording is not in view at first: {before}"
    page.keyboard.press("+")
    wait_for(
        lambda: wave.evaluate(WAVE_SCROLL)[0] >= 1.5 * before[0],
        lambda: f"+ did not zoom in: {wave.evaluate(WAVE_SCROLL)}",
    )
    page.keyboard.press("-")
    wait_for(lambda: wave.evaluate(WAVE_SCROLL) == before, lambda: f"- did not zoom out: {wave.evaluate(WAVE_SCROLL)}")


def test_a_video_shows_its_waveform_underneath_and_without_measurements_none(browser_page, player_server):
    page = browser_page
    open_player(page, player_server, "r25.mp4", "video")
    wave = page.get_by_test_id("obscode-waveform")
    wait_for(lambda: wave.is_visible() and wave.evaluate(PAINTED), lambda: "no waveform under the video")
    assert wave.bounding_box()["y"] >= media(page).bounding_box()["y"] + media(page).bounding_box()["height"] - 1
    open_player(page, player_server, "r25.mp4", "video", measured=False)
    time.sleep(0.5)
    expect(page.get_by_test_id("obscode-waveform")).to_be_hidden()


WAVESURFER = ROOT / "coding_app/web/waveform/node_modules/wavesurfer.js/dist/wavesurfer.esm.js"


def test_the_waveform_comes_from_the_apps_routes_once_and_a_rerun_sends_neither_library_nor_peaks(browser_page, demo):
    """The library and the envelope are fetched from the app's routes once per page view; a score key's
    rerun carries only the player's small arguments; a click on the waveform still seeks."""
    page = browser_page
    sign_in(page, demo, "rater.one")
    code = claim(demo, queue_rows(page))
    fetched, frames = [], []
    page.on("request", lambda request: fetched.append(request.url))
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(len(payload))))
    open_recording(page, demo, code)
    wait_for_media(page)
    wave = page.get_by_test_id("obscode-waveform")
    wait_for(lambda: wave.is_visible() and wave.evaluate(PAINTED), lambda: "no waveform under the video")
    libraries = sorted(url.removeprefix(demo.base_url) for url in fetched if "/obscode/assets/" in url)
    assert libraries == sorted(module_urls().values()), libraries
    assert sum("/obscode/peaks/" in url for url in fetched) == 1, fetched

    fetched.clear()
    frames.clear()
    with reran(page):
        page.keyboard.press("3")  # sent when no half point follows
    wait_checked(scale_groups(page).nth(0), "3")
    assert frames, "the score key's rerun sent the page nothing"
    assert not [url for url in fetched if "/obscode/peaks/" in url or "/obscode/assets/" in url], fetched
    # the library's core alone is bigger than anything the rerun sent (it used to travel in the player's arguments)
    assert max(frames) < WAVESURFER.stat().st_size, frames

    box = wave.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] / 3)
    duration = media(page).evaluate("m => m.duration")
    wait_for(
        lambda: abs(current_time(page) - duration * 0.75) < 0.2,
        lambda: f"a click at 75 % of {duration} s went to {current_time(page)}",
    )


def overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and (b["y"] < a["y"] + a["height"])
    )


@pytest.mark.parametrize("width, height", [(1280, 720), (1440, 900)])
def test_a_levels_anchor_hides_no_level_and_player_scales_and_submit_fit_the_window(browser_page, demo, width, height):
    page = browser_page
    page.set_viewport_size({"width": width, "height": height})
    sign_in(page, demo, "rater.one")
    open_recording(page, demo, claim(demo, queue_rows(page)))
    wait_for_media(page)
    wait_for(lambda: page.get_by_test_id("obscode-waveform").is_visible(), lambda: "no waveform under the video")
    submit = page.get_by_role("button", name="Submit ratings")
    needed = [media(page), page.get_by_test_id("obscode-seek"), scale_groups(page).nth(1), submit]
    for thing in needed:  # in the window without scrolling
        box = thing.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= height, (thing, box)
    options = page.locator("[data-testid=stRadioOption]")
    levels = [options.nth(i).bounding_box() for i in range(options.count())]
    anchor = page.get_by_test_id("obscode-anchor")
    for i in range(options.count()):
        options.nth(i).hover()
        expect(anchor).to_be_visible()
        words = anchor.bounding_box()
        hidden = [levels[j] for j in range(len(levels)) if overlap(words, levels[j])]
        assert not hidden and not overlap(words, submit.bounding_box()), (options.nth(i).inner_text(), words, hidden)
        if i == 0:
            page.screenshot(path=str(SCREENSHOTS / f"code-anchor-placed-{width}.png"))


def test_a_stale_windows_score_keys_and_enter_change_nothing_another_window_saved(browser_page, demo):
    """The keys go through the radios' compare-and-set: B's key press on a score A changed is refused,
    and B's Enter on a confirmation made before A's change submits nothing."""
    b = browser_page
    sign_in(b, demo, "rater.one")
    code = claim(demo, queue_rows(b))
    open_recording(b, demo, code)
    a = b.context.new_page()
    open_recording(a, demo, code)
    for window in (a, b):  # each player is in its page, its keys with it
        wait_for_media(window)
    a.keyboard.press("3")
    wait_checked(scale_groups(a).nth(0), "3")

    b.keyboard.press("5")  # B still shows no score
    expect(b.get_by_text("Not saved: this score was changed in another window", exact=False)).to_be_visible()
    wait_checked(scale_groups(b).nth(0), "3")
    b.keyboard.press("s")
    b.keyboard.press("6")
    wait_checked(scale_groups(b).nth(1), "6")
    b.keyboard.press("Enter")
    expect(b.get_by_text(re.compile(r"^Submit this recording\?"))).to_be_visible()

    a.reload()
    settle(a)
    wait_for_media(a)
    a.keyboard.press("4")
    wait_checked(scale_groups(a).nth(0), "4")
    b.keyboard.press("Enter")
    expect(b.get_by_text("Not submitted: the scores were changed in another window", exact=False)).to_be_visible()
    wait_checked(scale_groups(b).nth(0), "4")
    assert f"recording={code}" in b.url
    a.reload()
    settle(a)
    expect(a.get_by_role("button", name="Submit ratings")).to_be_enabled()  # still a draft


def test_t_starts_a_new_entry_at_the_current_time_and_a_click_on_an_entry_goes_there(browser_page, player_server):
    page = browser_page
    open_player(page, player_server, "tone.m4a", "audio")
    notes = page.get_by_test_id("obscode-notes")
    notes.fill("first impressions")  # the cursor ends the text: T starts a line of its own, not glued on
    page.keyboard.press("Escape")
    media(page).evaluate("m => { m.currentTime = 1.25; }")
    wait_for(lambda: current_time(page) == 1.25, lambda: f"at {current_time(page)}")
    page.keyboard.press("t")
    page.keyboard.type("smiles")
    expect(notes).to_have_value("first impressions\n[0:00:01.250] smiles")
    page.keyboard.press("Escape")
    page.keyboard.press("End")
    entry = page.get_by_test_id("obscode-entries").get_by_role("button", name="0:00:01.250")
    expect(entry).to_have_count(1)
    entry.click()
    wait_for(lambda: current_time(page) == 1.25, lambda: f"the entry went to {current_time(page)}")
