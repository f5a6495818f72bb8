"""The flag on the pages (AppTest): a coder's "Cannot code this recording" on the coding page, the PI's decision on
the progress page, and the progress page in words people read."""

from coding_app import blinded, flags
from tests.coding_app.helpers import audit_rows
from tests.coding_app.web import test_pages
from tests.coding_app.web.test_pages import button, open_page, texts

as_user = test_pages.as_user  # the pages' sign-in fixture

NOTE = "the sound drops out after a minute"


def flag_from_the_page(web_study, reason: str, text: str = ""):
    """ann opens her first recording, asks to flag it, picks the reason, writes the text and confirms."""
    at = open_page("views/code.py", {"recording": web_study.codes["ann"][0]})
    button(at, "Cannot code this recording").click().run()
    at.radio(key=f"flag-reason-{web_study.codes['ann'][0]}").set_value(reason).run()
    at.text_area(key=f"flag-text-{web_study.codes['ann'][0]}").input(text).run()
    return button(at, "Take it out of my queue").click().run()


def test_a_coder_flags_a_recording_and_the_next_one_opens(as_user, web_study):
    as_user("ann")
    first, second, _ = web_study.codes["ann"]
    at = open_page("views/code.py", {"recording": first})
    button(at, "Cannot code this recording").click().run()
    reasons = at.radio(key=f"flag-reason-{first}")
    assert reasons.options == list(flags.REASONS.values()) and reasons.value is None
    assert button(at, "Take it out of my queue").disabled  # a reason first

    at = flag_from_the_page(web_study, "no_sound", NOTE)

    assert not at.exception
    assert at.query_params["recording"] == second and f"Recording {second}" in [s.value for s in at.subheader]
    assert [i.code for i in blinded.queue(web_study.store, web_study.account("ann"))] == web_study.codes["ann"][1:]
    [raised] = audit_rows(web_study.store, "flag.raise")
    assert (raised.new["recording"], raised.new["reason"], raised.new["text"]) == (first, "no_sound", NOTE)
    again = open_page("views/code.py", {"recording": first})
    assert "That recording is not in your queue" in texts(again) and not again.radio


def test_something_else_without_words_is_refused_in_the_dialog_and_nothing_is_flagged(as_user, web_study):
    as_user("ann")
    at = flag_from_the_page(web_study, "other")
    assert 'Not flagged: say what is wrong: "Something else (say what)" needs a few words.' in [
        e.value for e in at.error
    ]
    assert [i.code for i in blinded.queue(web_study.store, web_study.account("ann"))] == web_study.codes["ann"]
    assert button(at, "Take it out of my queue")  # the dialog stays open with what was chosen


def test_cancel_closes_the_dialog_and_flags_nothing(as_user, web_study):
    as_user("ann")
    at = open_page("views/code.py", {"recording": web_study.codes["ann"][0]})
    button(at, "Cannot code this recording").click().run()
    button(at, "Cancel").click().run()
    assert "Take it out of my queue" not in [b.label for b in at.button]
    assert audit_rows(web_study.store, "flag.raise") == []


def test_a_submitted_recording_offers_no_flag(as_user, web_study):
    as_user("ann")
    code, account = web_study.codes["ann"][0], web_study.account("ann")
    for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
        blinded.save_draft(web_study.store, account, code, scale, 5)
    blinded.submit(web_study.store, account, code)
    at = open_page("views/code.py", {"recording": code})
    assert "Cannot code this recording" not in [b.label for b in at.button]


def waiting_flag(web_study) -> flags.FlagShown:
    blinded.flag(web_study.store, web_study.account("ann"), web_study.codes["ann"][0], "no_sound", NOTE)
    [flag] = flags.open_flags(web_study.store, web_study.account("pat"))
    return flag


def test_the_pi_sees_the_flag_says_what_to_do_and_puts_it_back_in_the_queue(as_user, web_study):
    flag = waiting_flag(web_study)
    as_user("pat")
    at = open_page("views/progress.py")
    assert (
        "**What to do next**\n\n- 1 flag waits for your decision: under Flagged recordings, put each back in the "
        "queue or exclude it from the study."
    ) in [w.value for w in at.warning]
    shown = texts(at)
    assert f"**Recording {flag.code}** (video): **No sound**. Flagged by ann on" in shown
    assert NOTE in [t.value for t in at.text]
    at.text_input(key=f"note-{flag.id}").input("re-imported with its sound").run()
    button(at, "Back to the queue").click().run()

    assert f"Recording {flag.code} is back in ann's queue, at its place." in [s.value for s in at.success]
    assert "No flag waits for your decision" in texts(at) and not at.warning
    assert "**What to do next:** Nothing waits for you; coders have 13 scale ratings still to make." in texts(at)
    assert [i.code for i in blinded.queue(web_study.store, web_study.account("ann"))] == web_study.codes["ann"]
    [cleared] = audit_rows(web_study.store, "flag.clear")
    assert (cleared.actor, cleared.reason) == ("pat", "re-imported with its sound")


def test_the_pi_excludes_a_recording_with_a_reason_and_sees_it_listed(as_user, web_study):
    flag = waiting_flag(web_study)
    as_user("pat")
    at = open_page("views/progress.py")
    button(at, "Exclude from the study").click().run()
    assert (
        "Nothing changed: excluding a recording from the study needs a reason (kept with it and in the audit log)."
        in [e.value for e in at.error]
    )
    assert flags.open_flags(web_study.store, web_study.account("pat")) == [flag]

    at.text_input(key=f"note-{flag.id}").input("not a trial family").run()
    button(at, "Exclude from the study").click().run()

    assert any(s.value.startswith(f"Recording {flag.code} is excluded from the study") for s in at.success)
    gone = at.dataframe[-1].value
    assert gone[["recording", "why", "ratings count", "PI's reason", "excluded by"]].values.tolist() == [
        [flag.code, "a coder could not code it", "no", "not a trial family", "pat"]
    ]
    for name in ("ann", "bob"):
        assert flag.code not in [i.code for i in blinded.queue(web_study.store, web_study.account(name))]


def test_the_progress_table_reads_in_words(as_user, web_study):
    """Headers people read, scales by label, no None; the flagged and excluded recordings counted."""
    waiting_flag(web_study)
    as_user("pat")
    at = open_page("views/progress.py")
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "coder",
        "scale",
        "assigned",
        "in progress",
        "submitted",
        "flagged",
        "excluded",
        "left to code",
    ]
    ann = table[(table["coder"] == "ann") & (table["scale"] == "Maternal sensitivity (EA Scales)")].iloc[0]
    assert (ann["assigned"], ann["flagged"], ann["left to code"]) == (3, 1, 2)
    assert set(table["scale"]) == {
        "Maternal sensitivity (EA Scales)",
        "Maternal non-intrusiveness (EA Scales)",
        "VIPP-PMH adherence to the manual",
    }
    assert "None" not in table.astype(str).values
