"""The coding app in a real browser (Debian chromium) against a real `obscode run`.

Each test signs in afresh in its own browser context. The module has its own copy of the demo
study, shared by its tests: tests that rate take a recording nobody else has taken (``claim``),
and the one that submits records it in ``demo.submitted`` so that counts stay exact in any order.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import expect

from .conftest import (
    RATER_ONE_DONE,
    RATER_ONE_TOTAL,
    SCREENSHOTS,
    claim,
    done_text,
    media,
    open_recording,
    open_unclaimed,
    queue_rows,
    reran,
    settle,
    sign_in,
    table_rows,
    wait_for_media,
)

SEEK = 5.0
CODER_NAMES = ("rater.one", "rater.two", "fidelity.one", "pi.one")


def current_time(page) -> float:
    return media(page).evaluate("m => m.currentTime")


def wait_time(page, expected: float, tolerance: float = 0.3, timeout: float = 5.0) -> float:
    """Wait for the media's currentTime to reach ``expected`` (a seek is not always instant)."""
    page.wait_for_function(
        "([m, t, within]) => Math.abs(m.currentTime - t) <= within",
        arg=[media(page).element_handle(), expected, tolerance],
        timeout=timeout * 1000,
    )
    return current_time(page)


def seek_by_key(page, key: str) -> float:
    """Press ``key`` and return where the media is once the seek it started has ended (every listener has acted)."""
    media(page).evaluate(
        "m => { m.seekEnded = false; m.addEventListener('seeked', () => { m.seekEnded = true; }, {once: true}); }"
    )
    page.keyboard.press(key)
    page.wait_for_function("m => m.seekEnded", arg=media(page).element_handle(), timeout=5_000)
    return current_time(page)


def scale_groups(page):
    """The scales' radio groups, in page order (Streamlit radios: role=radiogroup labelled by the scale)."""
    groups = page.get_by_role("radiogroup")
    expect(groups.first).to_be_visible()
    return groups


def choose(group, label: str) -> None:
    """Click a score option (the visible label, as a mouse user would)."""
    group.locator("[data-testid=stRadioOption]").filter(has_text=re.compile(rf"^{re.escape(label)}$")).click()


def checked(group) -> list[str]:
    return [
        option.inner_text().strip()
        for option in group.locator("[data-testid=stRadioOption]").all()
        if option.locator("input[type=radio]").is_checked()
    ]


def wait_checked(group, label: str, timeout: float = 10.0) -> None:
    """Wait until ``label``, and only it, is selected in the radio group."""
    selected = group.locator("[data-testid=stRadioOption]").filter(has=group.page.locator("input:checked"))
    expect(selected).to_have_text([label], timeout=timeout * 1000)


def score(page, group, label: str) -> None:
    """Click a score and wait until the run that saves it has been drawn, the score selected."""
    with reran(page):
        choose(group, label)
    wait_checked(group, label)


def media_src(page) -> str:
    wait_for_media(page)
    src = media(page).evaluate("m => m.currentSrc || m.src")
    assert "/obscode/media/" in src, src
    return src


def session_cookie(context) -> dict:
    found = [c for c in context.cookies() if c["name"] == "obscode_session"]
    assert len(found) == 1, f"expected one obscode_session cookie, found {found}"
    return found[0]


# --------------------------------------------------------------------------- 1. queue


def test_queue_shows_progress_and_continue_opens_an_unsubmitted_recording(browser_page, demo):
    page = browser_page
    sign_in(page, demo, "rater.one")
    done = RATER_ONE_DONE + len(demo.submitted.get("rater.one", []))
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    expect(page.get_by_text(done_text(done, RATER_ONE_TOTAL), exact=True)).to_be_visible()

    rows = queue_rows(page)
    assert len(rows) == RATER_ONE_TOTAL
    assert sum(row["Status"] == "submitted" for row in rows) == done
    status = {row["Recording"]: row["Status"] for row in rows}

    button = page.get_by_role("button", name=re.compile(r"^Continue where I left off"))
    promised = re.search(r"recording (\S+)$", button.inner_text().strip()).group(1)
    with reran(page):
        button.click()
    page.wait_for_url(re.compile(r"/code\?recording="))
    code = parse_qs(urlparse(page.url).query)["recording"][0]
    assert urlparse(page.url).path == "/code"
    assert code == promised
    assert status[code] != "submitted"
    # "where I left off" is the first recording, in the coder's own order, not yet submitted
    assert code == next(row["Recording"] for row in rows if row["Status"] != "submitted")
    expect(page.get_by_role("heading", name=f"Recording {code}")).to_be_visible()
    expect(media(page)).to_be_attached()


# --------------------------------------------------------------------------- 2. media


def test_media_plays_seeks_and_is_served_only_to_its_session(browser_page, demo, new_context):
    page = browser_page
    sign_in(page, demo, "rater.one")
    rows = queue_rows(page)
    code = rows[0]["Recording"]  # only watched here, never rated
    open_recording(page, demo, code)
    src = media_src(page)
    duration = media(page).evaluate("m => m.duration")
    assert duration > SEEK + 0.5, f"demo videos last 6 s, got {duration}"
    assert current_time(page) == 0

    page.get_by_role("button", name="Forward 5 seconds (L)").click()
    wait_time(page, SEEK)
    page.get_by_role("heading", name=f"Recording {code}").click()  # focus on the page, outside the player
    page.keyboard.press("j")
    wait_time(page, 0)
    moved = seek_by_key(page, "l")
    assert abs(moved - SEEK) <= 0.3, f"L moved to {moved:.2f} s, expected one 5 s step"
    expect(page.locator("[data-testid=obscode-time]")).to_have_text(re.compile(r"^0:00:05\.000 / 0:00:0[56]\.\d{3}$"))

    page.keyboard.press("j")
    wait_time(page, 0)
    page.get_by_role("button", name="Play or pause (Space)").click()
    page.wait_for_function("m => m.currentTime >= 0.5", arg=media(page).element_handle(), timeout=10_000)
    page.get_by_role("button", name="Play or pause (Space)").click()
    assert media(page).evaluate("m => m.paused")

    ranged = page.request.get(src, headers={"Range": "bytes=0-99"})
    assert ranged.status == 206
    match = re.fullmatch(r"bytes 0-99/(\d+)", ranged.headers.get("content-range", ""))
    assert match, ranged.headers
    assert len(ranged.body()) == 100
    assert ranged.headers["content-type"].startswith("video/")
    size = int(match.group(1))
    tail = page.request.get(src, headers={"Range": f"bytes={size - 10}-"})
    assert tail.status == 206 and len(tail.body()) == 10

    stranger = new_context()
    refused = stranger.request.get(src, headers={"Range": "bytes=0-99"})
    assert refused.status == 403
    assert refused.body() == b"Forbidden"
    # another account's session with the same URL is refused too
    other = stranger.new_page()
    sign_in(other, demo, "rater.two")
    assert stranger.request.get(src, headers={"Range": "bytes=0-99"}).status == 403


# --------------------------------------------------------------------------- 3. drafts


def test_scores_and_notes_are_drafted_and_survive_a_reload(browser_page, demo):
    page = browser_page
    open_unclaimed(page, demo)
    groups = scale_groups(page)
    expect(groups).to_have_count(2)
    first, second = groups.nth(0), groups.nth(1)
    assert "Maternal sensitivity" in first.get_attribute("aria-label")
    assert "non-intrusiveness" in second.get_attribute("aria-label")
    assert checked(first) == [] and checked(second) == []
    expect(page.get_by_text(re.compile(r"^Draft saved at"))).to_have_count(0)

    score(page, first, "5.5")  # mouse
    expect(page.get_by_text(re.compile(r"^Draft saved at \d\d:\d\d:\d\d$")).first).to_be_visible()

    second.get_by_role("radio", name="4", exact=True).focus()  # keyboard
    with reran(page):
        page.keyboard.press("ArrowRight")
    wait_checked(second, "4.5")
    expect(page.get_by_text("Class: Sensitive", exact=False)).to_be_visible()
    expect(page.get_by_text("Class: Intrusive", exact=False)).to_be_visible()

    page.reload()
    settle(page)
    groups = scale_groups(page)
    wait_checked(groups.nth(0), "5.5")
    wait_checked(groups.nth(1), "4.5")

    wait_for_media(page)
    page.get_by_role("button", name="Forward 5 seconds (L)").click()
    wait_time(page, SEEK)
    notes = page.locator("[data-testid=obscode-notes]")
    notes.fill("Warm, follows the child's lead; one brief takeover ")
    notes.evaluate("n => { n.selectionStart = n.selectionEnd = n.value.length; }")
    notes_state = page.locator("[data-testid=obscode-notes-state]")
    # the typed text is saved first, so that the only save after the time entry is the one that sends it
    expect(notes_state).to_have_text(re.compile(r"^Notes saved at"), timeout=15_000)
    page.get_by_role("button", name="Insert current time").click()  # "Typing..." until it is sent
    typed = notes.input_value()
    assert re.fullmatch(r"Warm, follows the child's lead; one brief takeover \n\[0:00:0[45]\.\d{3}\] ", typed), typed
    # sent once the typing pauses; the server's answer is the proof that they are stored
    expect(notes_state).to_have_text(re.compile(r"^Notes saved at"), timeout=15_000)

    page.reload()
    settle(page)
    expect(page.locator("[data-testid=obscode-notes]")).to_have_value(typed)
    groups = scale_groups(page)
    wait_checked(groups.nth(0), "5.5")
    wait_checked(groups.nth(1), "4.5")


def test_typing_notes_does_not_trigger_player_shortcuts_and_shortcuts_act_once(browser_page, demo):
    """Keys typed into the notes are text; J/L move 5 s once however many reruns the page had."""
    page = browser_page
    code = open_unclaimed(page, demo)
    wait_for_media(page)
    groups = scale_groups(page)
    for label in ("3", "4"):  # two reruns of the page, as a coder changing their mind makes
        score(page, groups.nth(0), label)

    problems = []
    page.get_by_role("heading", name=f"Recording {code}").click()
    moved = seek_by_key(page, "l")
    if abs(moved - SEEK) > 0.3:
        problems.append(f"after two reruns one press of L moved the media to {moved:.2f} s (one step is {SEEK:g} s)")
    media(page).evaluate("m => { m.pause(); m.currentTime = 0; }")
    wait_time(page, 0)

    text = "talks to the child; looks at the toy, jokes. [pause]"
    notes = page.locator("[data-testid=obscode-notes]")
    notes.click()
    notes.press_sequentially(text)
    # the box shows the last key once every keydown listener (the player's shortcuts too) has acted on it
    expect(notes).to_have_value(text)
    if not media(page).evaluate("m => m.paused"):
        problems.append("typing in the notes started playback")
    if current_time(page) > 0.3:
        problems.append(f"typing in the notes moved the playback position to {current_time(page):.2f} s")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- 4. submit


def test_submit_locks_the_recording_and_counts_in_the_queue(browser_page, demo):
    page = browser_page
    sign_in(page, demo, "rater.one")
    rows = queue_rows(page)
    before = sum(row["Status"] == "submitted" for row in rows)
    assert before == RATER_ONE_DONE + len(demo.submitted.get("rater.one", []))
    expect(page.get_by_text(done_text(before, RATER_ONE_TOTAL), exact=True)).to_be_visible()
    code = claim(demo, rows)

    open_recording(page, demo, code)
    submit = page.get_by_role("button", name="Submit ratings")
    expect(submit).to_be_disabled()  # nothing scored yet
    groups = scale_groups(page)
    score(page, groups.nth(0), "6")
    expect(submit).to_be_disabled()  # one scale still to score
    score(page, groups.nth(1), "5")
    expect(submit).to_be_enabled()

    submit.click()
    # a second step asks to confirm (a dialog or an inline question, depending on the build)
    expect(page.get_by_text(re.compile(r"^Submit this recording\?")).first).to_be_visible()
    confirm = page.get_by_role("button", name=re.compile(r"^(Yes, submit|Submit)$"))
    expect(confirm).to_have_count(1)
    with reran(page):
        confirm.click()
    demo.submitted.setdefault("rater.one", []).append(code)

    expect(page.get_by_text(re.compile(r"^Submitted and locked"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Submit this recording\?"))).to_have_count(0)
    expect(page.get_by_role("button", name="Submit ratings")).to_have_count(0)
    page.set_viewport_size({"width": 1400, "height": 1500})
    page.screenshot(path=str(SCREENSHOTS / "code-submitted.png"), full_page=True)
    for group in (groups.nth(0), groups.nth(1)):
        radios = group.get_by_role("radio")
        assert radios.count() == 13
        assert all(radio.is_disabled() for radio in radios.all())
    assert checked(groups.nth(0)) == ["6"] and checked(groups.nth(1)) == ["5"]
    notes_open_after_submit = page.locator("[data-testid=obscode-notes]").is_editable()

    page.reload()  # locked for good, not just in this page view
    settle(page)
    expect(page.get_by_text(re.compile(r"^Submitted and locked"))).to_be_visible()
    assert all(radio.is_disabled() for radio in scale_groups(page).nth(0).get_by_role("radio").all())
    expect(page.locator("[data-testid=obscode-notes]")).not_to_be_editable()

    page.goto(demo.url("/"))
    settle(page)
    expect(page.get_by_text(done_text(before + 1, RATER_ONE_TOTAL), exact=True)).to_be_visible()
    after = {row["Recording"]: row["Status"] for row in queue_rows(page)}
    assert after[code] == "submitted"
    assert sum(status == "submitted" for status in after.values()) == before + 1
    # checked last so that the rest is known too: notes typed now would be silently dropped
    assert not notes_open_after_submit, "the notes box stays editable after submitting (until a reload)"


# --------------------------------------------------------------------------- 5. logout


def test_sign_out_revokes_the_session_cookie_and_media_urls(browser_page, demo, new_context):
    page = browser_page
    sign_in(page, demo, "rater.one")
    code = queue_rows(page)[0]["Recording"]
    open_recording(page, demo, code)
    src = media_src(page)
    assert page.request.get(src, headers={"Range": "bytes=0-99"}).status == 206
    cookie = session_cookie(page.context)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert page.evaluate("() => document.cookie").find("obscode_session") == -1

    page.get_by_role("button", name="Sign out").click()  # a form post: a link would let any page sign out
    page.wait_for_url(re.compile(r"/obscode/login$"))
    expect(page.locator("#name")).to_be_visible()
    assert not [c for c in page.context.cookies() if c["name"] == "obscode_session"]

    replay = new_context()
    replay.add_cookies([cookie])
    stolen = replay.new_page()
    stolen.goto(demo.url("/"))
    settle(stolen)
    expect(stolen.get_by_text("You are not signed in, or your session has ended.")).to_be_visible()
    expect(stolen.get_by_role("link", name="Sign in")).to_be_visible()
    expect(stolen.get_by_text("My queue")).to_have_count(0)
    expect(stolen.get_by_text("Signed in as")).to_have_count(0)
    stolen.goto(demo.url(f"/code?recording={code}"))
    settle(stolen)
    expect(stolen.get_by_text("You are not signed in, or your session has ended.")).to_be_visible()
    expect(media(stolen)).to_have_count(0)
    assert replay.request.get(src, headers={"Range": "bytes=0-99"}).status == 403
    assert page.request.get(src, headers={"Range": "bytes=0-99"}).status == 403


# --------------------------------------------------------------------------- 6. roles


def test_role_walls(browser_page, demo, new_context):
    page = browser_page
    sign_in(page, demo, "rater.one")
    a_video = queue_rows(page)[0]["Recording"]
    page.goto(demo.url("/progress"))
    settle(page)
    expect(page.get_by_text("This page is not available to your account.")).to_be_visible()
    expect(page.get_by_text("Coding progress")).to_have_count(0)
    expect(page.get_by_text("Signed in as rater.one")).to_be_visible()
    text = page.locator("body").inner_text()
    for name in CODER_NAMES:
        if name != "rater.one":
            assert name not in text, f"rater.one can see {name!r} at /progress"

    pi = new_context().new_page()
    sign_in(pi, demo, "pi.one")
    pi.goto(demo.url("/progress"))
    settle(pi)
    expect(pi.get_by_role("heading", name="Coding progress")).to_be_visible()
    progress = table_rows(pi)
    cells = {cell for row in progress for cell in row.values()}
    assert {"rater.one", "rater.two"} <= cells, progress
    pi.goto(demo.url(f"/code?recording={a_video}"))  # the coders' page is not the PI's
    settle(pi)
    expect(pi.get_by_role("heading", name=re.compile(r"^Recording "))).to_have_count(0)
    expect(media(pi)).to_have_count(0)

    fidelity = new_context().new_page()
    sign_in(fidelity, demo, "fidelity.one")
    expect(fidelity.get_by_role("heading", name="My queue")).to_be_visible()
    rows = queue_rows(fidelity)
    assert rows, "fidelity.one has an empty queue"
    assert {row["Kind"] for row in rows} == {"audio"}, rows


# --------------------------------------------------------------------------- 7. screenshots


def test_screenshots_for_a_person_to_look_at(browser_page, demo):
    page = browser_page
    shots = {}
    page.goto(demo.url("/obscode/login"))
    expect(page.locator("#name")).to_be_visible()
    shots["login"] = SCREENSHOTS / "login.png"
    page.screenshot(path=str(shots["login"]), full_page=True)

    sign_in(page, demo, "rater.one")
    rows = queue_rows(page)
    page.locator("[data-testid=stDataFrame] .dvn-scroller").first.evaluate("e => { e.scrollTop = 0; }")
    shots["queue"] = SCREENSHOTS / "queue.png"
    page.screenshot(path=str(shots["queue"]), full_page=True)

    open_recording(page, demo, next(row["Recording"] for row in rows if row["Status"] != "submitted"))
    wait_for_media(page, ready_state=2)
    # Streamlit scrolls inside its main pane, so a "full page" shot is the viewport: make it tall
    page.set_viewport_size({"width": 1400, "height": 1500})
    shots["code"] = SCREENSHOTS / "code.png"
    page.screenshot(path=str(shots["code"]), full_page=True)

    for name, path in shots.items():
        data = Path(path).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width == 1400 and height >= 900, (name, width, height)
        assert len(data) > 15_000, f"{name}.png is suspiciously small ({len(data)} bytes): a blank page?"


# --------------------------------------------------------------------------- two windows, odd notes


def test_a_window_confirmed_before_another_changed_a_score_submits_nothing_and_shows_what_is_saved(browser_page, demo):
    """Window B confirms 6 and 6; window A (same coder, same browser) then picks 3: B's "Yes, submit" locks nothing."""
    b = browser_page
    code = open_unclaimed(b, demo)
    for group in (scale_groups(b).nth(0), scale_groups(b).nth(1)):
        score(b, group, "6")
    with reran(b):
        b.get_by_role("button", name="Submit ratings").click()
    expect(b.get_by_text("Submit this recording?", exact=False)).to_be_visible()

    a = b.context.new_page()
    open_recording(a, demo, code)
    wait_checked(scale_groups(a).nth(0), "6")
    score(a, scale_groups(a).nth(0), "3")

    with reran(b):
        b.get_by_role("button", name="Yes, submit").click()
    expect(b.get_by_text("Not submitted: the scores were changed in another window", exact=False)).to_be_visible()
    wait_checked(scale_groups(b).nth(0), "3")
    expect(b.get_by_text("Submitted and locked", exact=False)).to_have_count(0)
    a.reload()
    settle(a)
    expect(a.get_by_role("button", name="Submit ratings")).to_be_enabled()  # still a draft


def test_notes_with_half_an_emoji_are_saved_and_too_long_notes_are_refused_with_a_message(browser_page, demo):
    page = browser_page
    open_unclaimed(page, demo)
    notes, state = page.locator("[data-testid=obscode-notes]"), page.locator("[data-testid=obscode-notes-state]")
    notes.evaluate("n => { n.value = 'calm \\ud800 then smiles'; n.dispatchEvent(new Event('input')); n.blur(); }")
    expect(state).to_have_text(re.compile(r"^Notes saved at"), timeout=15_000)
    page.reload()
    settle(page)
    expect(page.locator("[data-testid=obscode-notes]")).to_have_value("calm \ufffd then smiles")

    notes = page.locator("[data-testid=obscode-notes]")
    notes.evaluate("n => { n.value = 'x'.repeat(20001); n.dispatchEvent(new Event('input')); n.blur(); }")
    expect(page.locator("[data-testid=obscode-notes-state]")).to_have_text(
        re.compile(r"^Notes not saved: notes are limited to 20,000 characters"), timeout=15_000
    )
    page.reload()
    settle(page)
    expect(page.locator("[data-testid=obscode-notes]")).to_have_value("calm \ufffd then smiles")
