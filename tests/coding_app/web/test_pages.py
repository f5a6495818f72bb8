"""Page logic with Streamlit's AppTest: navigation per role, the queue, drafts and submission.

AppTest cannot send cookies, so the signed-in identity is supplied at the one seam the pages
use (coding_app.web.identity.current); turning a cookie into an identity is tested over HTTP
in test_routes and in the browser tests.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding_app import blinded
from coding_app.sessions import Identity
from coding_app.web import identity

APP = Path(identity.__file__).with_name("app.py")
PAGES = APP.with_name("pages")


@pytest.fixture
def as_user(web_study, monkeypatch):
    def sign_in(name: str | None) -> None:
        who = None if name is None else Identity(web_study.account(name), "test-session")
        monkeypatch.setattr(identity, "current", lambda: who)

    return sign_in


def run(script: Path, query: dict | None = None) -> AppTest:
    """Run a script alone: what a page shows when reached without the app's navigation."""
    at = AppTest.from_file(str(script), default_timeout=30)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def open_page(page: str, query: dict | None = None) -> AppTest:
    """Open a page through the app, as navigation does (``page`` relative to the app script)."""
    at = AppTest.from_file(str(APP), default_timeout=30)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run().switch_page(page).run()


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "info", "error", "success", "warning")
             for e in getattr(at, kind)]  # fmt: skip
    return "\n".join(str(p) for p in parts)


def test_nobody_signed_in_sees_only_the_sign_in_prompt(as_user):
    as_user(None)
    at = run(APP)
    assert "not signed in" in texts(at)
    assert not at.dataframe and not at.radio


def test_a_coder_gets_their_queue_and_no_pi_page(as_user, web_study):
    as_user("ann")
    at = run(APP)
    assert not at.exception
    assert "My queue" in texts(at)
    assert "0 of 3 recordings done" in at.get("progress")[0].proto.text
    shown = list(at.dataframe[0].value["Recording"])
    assert shown == web_study.codes["ann"]


def test_a_coder_opening_the_pi_page_file_gets_nothing_of_it(as_user):
    as_user("ann")
    at = run(PAGES / "progress.py")
    assert "not available to your account" in texts(at)
    assert not at.dataframe


def test_the_pi_sees_agreement_and_progress_and_not_the_coding_pages(as_user):
    as_user("pat")
    at = run(APP)
    assert "No recording has been scored by two coders yet." in texts(at)
    at = open_page("pages/progress.py")
    table = at.dataframe[0].value
    assert set(table["coder"]) == {"ann", "bob", "fay"}
    assert "Coding progress" in texts(at)
    refused = run(PAGES / "code.py")
    assert "not available to your account" in texts(refused) and not refused.radio


def test_a_fidelity_coder_rates_audio_on_the_adherence_scale(as_user, web_study):
    as_user("fay")
    at = open_page("pages/code.py", {"recording": web_study.codes["fay"][0]})
    assert [r.label for r in at.radio] == ["VIPP-PMH adherence to the manual"]
    assert at.radio[0].options == ["1", "2", "3", "4", "5"]


def test_choosing_a_score_saves_a_draft_that_a_rerun_shows_again(as_user, web_study):
    as_user("ann")
    code = web_study.codes["ann"][0]
    at = open_page("pages/code.py", {"recording": code})
    sensitivity = at.radio[0]
    assert sensitivity.value is None
    sensitivity.set_value(5.5).run()
    saved = blinded.task(web_study.store, web_study.account("ann"), code).ratings["ea_sensitivity"]
    assert (saved.score, saved.status) == (5.5, "draft")
    assert "Class: **Sensitive**" in texts(at)
    again = open_page("pages/code.py", {"recording": code})
    assert again.radio[0].value == 5.5 and again.radio[1].value is None


def test_submit_needs_both_scales_then_locks_them(as_user, web_study):
    as_user("ann")
    code = web_study.codes["ann"][0]
    at = open_page("pages/code.py", {"recording": code})
    submit = next(b for b in at.button if b.label == "Submit ratings")
    assert submit.disabled
    at.radio[0].set_value(6.0).run()
    at.radio[1].set_value(4.5).run()
    submit = next(b for b in at.button if b.label == "Submit ratings")
    assert not submit.disabled
    submit.click().run()
    assert "Submit this recording?" in texts(at)
    next(b for b in at.button if b.label == "Yes, submit").click().run()
    task = blinded.task(web_study.store, web_study.account("ann"), code)
    assert task.submitted and {r.status for r in task.ratings.values()} == {"submitted"}
    locked = open_page("pages/code.py", {"recording": code})
    assert "Submitted and locked" in texts(locked)
    assert all(r.disabled for r in locked.radio)


def test_a_recording_not_in_the_queue_is_refused_like_a_missing_one(as_user, web_study):
    as_user("ann")
    foreign = open_page("pages/code.py", {"recording": web_study.codes["fay"][0]})
    missing = open_page("pages/code.py", {"recording": "NOSUCH99"})
    assert "not in your queue" in texts(foreign) and texts(foreign) == texts(missing)
    assert not foreign.radio


def test_the_agreement_page_shows_every_statistic_once_two_coders_have_submitted(as_user, web_study):
    for name, scores in (("ann", (5.5, 6.0, 3.0)), ("bob", (5.0, 6.0, 3.5))):
        account = web_study.account(name)
        for code in web_study.codes["ann"]:
            score = scores[web_study.codes["ann"].index(code)]
            for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
                blinded.save_draft(web_study.store, account, code, scale, score, "")
            blinded.submit(web_study.store, account, code)
    as_user("pat")
    at = run(APP)
    assert not at.exception
    alphas, statistics = at.dataframe[0].value, at.dataframe[1].value
    assert list(alphas["scale"]) == ["ea_sensitivity", "ea_non_intrusiveness"] and set(alphas["n"]) == {3}
    assert "weighted kappa (quadratic)" in list(statistics["statistic"])
    assert "n = 3 recordings scored by both" in texts(at)


def test_a_coder_opening_the_agreement_page_gets_nothing_of_it(as_user):
    as_user("ann")
    at = run(PAGES / "agreement.py")
    assert "not available to your account" in texts(at)
    assert not at.dataframe


def test_the_fidelity_page_is_for_the_pi_only(as_user):
    as_user("pat")
    at = open_page("pages/fidelity.py")
    assert not at.exception
    assert "Treatment fidelity" in texts(at)
    assert set(at.dataframe[0].value["clinician"]) == {"clinician Q"}
    as_user("fay")
    refused = run(PAGES / "fidelity.py")
    assert "not available to your account" in texts(refused) and not refused.dataframe
