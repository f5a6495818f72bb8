"""A flag in a real browser: a coder cannot code a recording, says why, and goes on; the PI sees it on the progress
page and puts it back in the queue. At 1280x720, with screenshots of the dialog and of the PI's section."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from .conftest import SCREENSHOTS, open_unclaimed, queue_rows, reran, settle, sign_in

SMALL = {"width": 1280, "height": 720}
SEEN = "only a hiss, no voices at all"


def test_a_coder_flags_a_recording_and_the_pi_puts_it_back_in_the_queue(browser_page, demo, new_context):
    page = browser_page
    page.set_viewport_size(SMALL)
    code = open_unclaimed(page, demo)

    page.get_by_role("button", name="Cannot code this recording").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text(f"Recording {code} leaves your queue until the PI has looked at it.")).to_be_visible()
    confirm = dialog.get_by_role("button", name="Take it out of my queue")
    expect(confirm).to_be_disabled()  # a reason first
    dialog.get_by_text("No sound", exact=True).click()
    dialog.get_by_role("textbox", name="What do you see (or not)?").fill(SEEN)
    expect(confirm).to_be_enabled()
    page.screenshot(path=SCREENSHOTS / "flag-dialog-1280x720.png")
    with reran(page):
        confirm.click()

    # The next recording opens, and the flagged one has left the queue.
    expect(page.get_by_role("heading", name=re.compile(r"^Recording (?!" + code + ")"))).to_be_visible()
    expect(page.get_by_text(f"Recording {code} is out of your queue until the PI decides.")).to_be_visible()
    page.goto(demo.url("/"))
    settle(page)
    assert code not in [row["Recording"] for row in queue_rows(page)]

    pi = new_context().new_page()
    pi.set_viewport_size(SMALL)
    sign_in(pi, demo, "pi.one")
    pi.goto(demo.url("/progress"))
    settle(pi)
    expect(
        pi.get_by_text(
            "1 flag waits for your decision: under Flagged recordings, put each back in the queue or "
            "exclude it from the study."
        )
    ).to_be_visible()
    expect(
        pi.get_by_text(re.compile(rf"Recording {code} \(video\): No sound\. Flagged by rater\.one on "))
    ).to_be_visible()
    expect(pi.get_by_text(SEEN)).to_be_visible()
    pi.get_by_role("heading", name="Flagged recordings").scroll_into_view_if_needed()
    pi.screenshot(path=SCREENSHOTS / "progress-flags-1280x720.png")
    pi.get_by_role("textbox", name="Note (needed to exclude)").fill("the sound is there: check your headphones")
    with reran(pi):
        pi.get_by_role("button", name="Back to the queue").click()

    expect(pi.get_by_text(f"Recording {code} is back in rater.one's queue, at its place.")).to_be_visible()
    expect(pi.get_by_text("No flag waits for your decision.", exact=False)).to_be_visible()
    # the demo's: rater.one 8 recordings x 2 scales (the flagged one back among them), rater.three 5 training
    # recordings x 2, fidelity.one 3 sessions
    expect(pi.get_by_text("Nothing waits for you; coders have 29 scale ratings still to make.")).to_be_visible()
    pi.screenshot(path=SCREENSHOTS / "progress-cleared-1280x720.png", full_page=True)
    page.reload()
    settle(page)
    assert {"Recording": code, "Status": "not started"}.items() <= next(
        row for row in queue_rows(page) if row["Recording"] == code
    ).items()
