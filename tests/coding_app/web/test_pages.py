"""Page logic with Streamlit's AppTest: navigation per role, the queue, drafts and submission.

AppTest cannot send cookies, so the signed-in identity is supplied at the one seam the pages
use (coding_app.web.identity.current); turning a cookie into an identity is tested over HTTP
in test_routes and in the browser tests.
"""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding_app import blinded
from coding_app.accounts import add_account
from coding_app.logins import Identity
from coding_app.sampling import draw_fidelity
from coding_app.web import identity, report_cache
from tests.coding_app.helpers import audit_rows

APP = Path(identity.__file__).with_name("app.py")
PAGES = APP.with_name("views")


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
    parts = [
        e.value
        for kind in ("title", "markdown", "caption", "info", "error", "success", "warning")
        for e in getattr(at, kind)
    ]
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


@pytest.mark.parametrize("page", ["progress", "agreement"])
def test_a_coder_opening_a_pi_page_file_gets_nothing_of_it(as_user, page):
    as_user("ann")
    at = run(PAGES / f"{page}.py")
    assert "not available to your account" in texts(at)
    assert not at.dataframe


def test_the_pi_sees_agreement_and_progress_and_not_the_coding_pages(as_user):
    as_user("pat")
    at = run(APP)
    assert "No recording has been scored by two coders yet." in texts(at)
    at = open_page("views/progress.py")
    table = at.dataframe[0].value
    assert set(table["coder"]) == {"ann", "bob", "fay"}
    assert "Coding progress" in texts(at)
    refused = run(PAGES / "code.py")
    assert "not available to your account" in texts(refused) and not refused.radio


def test_a_fidelity_coder_rates_audio_on_the_adherence_scale(as_user, web_study):
    as_user("fay")
    at = open_page("views/code.py", {"recording": web_study.codes["fay"][0]})
    assert [r.label for r in at.radio] == ["VIPP-PMH adherence to the manual"]
    assert at.radio[0].options == ["1", "2", "3", "4", "5"]


def test_choosing_a_score_saves_a_draft_that_a_rerun_shows_again(as_user, web_study):
    as_user("ann")
    code = web_study.codes["ann"][0]
    at = open_page("views/code.py", {"recording": code})
    sensitivity = at.radio[0]
    assert sensitivity.value is None
    sensitivity.set_value(5.5).run()
    saved = blinded.task(web_study.store, web_study.account("ann"), code).ratings["ea_sensitivity"]
    assert (saved.score, saved.status) == (5.5, "draft")
    assert "Class: **Sensitive**" in texts(at)
    again = open_page("views/code.py", {"recording": code})
    assert again.radio[0].value == 5.5 and again.radio[1].value is None


def test_submit_needs_both_scales_then_locks_them(as_user, web_study):
    as_user("ann")
    code = web_study.codes["ann"][0]
    at = open_page("views/code.py", {"recording": code})
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
    locked = open_page("views/code.py", {"recording": code})
    assert "Submitted and locked" in texts(locked)
    assert all(r.disabled for r in locked.radio)


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def two_windows(web_study) -> tuple[AppTest, AppTest, str]:
    """Window B picks 6 and 6; window A, opened after, changes sensitivity to 3. B is not reloaded."""
    code = web_study.codes["ann"][0]
    b = open_page("views/code.py", {"recording": code})
    b.radio[0].set_value(6.0).run()
    b.radio[1].set_value(6.0).run()
    a = open_page("views/code.py", {"recording": code})
    assert [r.value for r in a.radio] == [6.0, 6.0]
    a.radio[0].set_value(3.0).run()
    return a, b, code


def stored(web_study, code: str) -> tuple[dict, bool]:
    task = blinded.task(web_study.store, web_study.account("ann"), code)
    return {k: r.score for k, r in task.ratings.items()}, task.submitted


def test_a_stale_window_shows_what_another_window_saved_before_it_confirms(as_user, web_study):
    """B's click on Submit shows A's 3 with a warning instead of confirming; the next click's confirming
    screen lists 3 and its class, and locks 3."""
    as_user("ann")
    _, b, code = two_windows(web_study)
    button(b, "Submit ratings").click().run()
    assert "Changed in another window" in texts(b) and "Submit this recording?" not in texts(b)
    assert [r.value for r in b.radio] == [3.0, 6.0]
    button(b, "Submit ratings").click().run()
    assert "**3** (Inconsistent or insensitive)" in texts(b)
    button(b, "Yes, submit").click().run()
    assert stored(web_study, code) == ({"ea_sensitivity": 3.0, "ea_non_intrusiveness": 6.0}, True)


def test_a_confirmation_made_before_another_window_changed_a_score_submits_nothing(as_user, web_study):
    """B is on the confirming screen (6 and 6) when A changes sensitivity: B's "Yes, submit" is refused."""
    as_user("ann")
    code = web_study.codes["ann"][0]
    b = open_page("views/code.py", {"recording": code})
    b.radio[0].set_value(6.0).run()
    b.radio[1].set_value(6.0).run()
    button(b, "Submit ratings").click().run()
    assert "**6** (Sensitive)" in texts(b)
    a = open_page("views/code.py", {"recording": code})
    a.radio[0].set_value(3.0).run()
    button(b, "Yes, submit").click().run()
    assert not b.exception
    assert "Not submitted: the scores were changed in another window" in texts(b)
    assert stored(web_study, code) == ({"ea_sensitivity": 3.0, "ea_non_intrusiveness": 6.0}, False)
    assert [r.value for r in b.radio] == [3.0, 6.0] and "Submitted and locked" not in texts(b)


def test_a_score_chosen_in_a_stale_window_does_not_overwrite_another_windows_change(as_user, web_study):
    """B still shows 6 for sensitivity and picks 5: refused (A's 3 stays), and B now shows 3."""
    as_user("ann")
    _, b, code = two_windows(web_study)
    b.radio[0].set_value(5.0).run()
    assert "Not saved: this score was changed in another window" in texts(b)
    assert stored(web_study, code)[0]["ea_sensitivity"] == 3.0
    assert b.radio[0].value == 3.0


def test_a_recording_not_in_the_queue_is_refused_like_a_missing_one(as_user, web_study):
    as_user("ann")
    foreign = open_page("views/code.py", {"recording": web_study.codes["fay"][0]})
    missing = open_page("views/code.py", {"recording": "NOSUCH99"})
    assert "not in your queue" in texts(foreign) and texts(foreign) == texts(missing)
    assert not foreign.radio


def test_the_agreement_page_shows_every_statistic_once_two_coders_have_submitted(as_user, web_study):
    for name, scores in (("ann", (5.5, 6.0, 3.0)), ("bob", (5.0, 6.0, 3.5))):
        account = web_study.account(name)
        for code in web_study.codes["ann"]:
            score = scores[web_study.codes["ann"].index(code)]
            for scale in ("ea_sensitivity", "ea_non_intrusiveness"):
                blinded.save_draft(web_study.store, account, code, scale, score)
            blinded.submit(web_study.store, account, code)
    as_user("pat")
    at = run(APP)
    assert not at.exception
    alphas, statistics = at.dataframe[0].value, at.dataframe[1].value
    assert list(alphas["scale"]) == ["Maternal sensitivity (EA Scales)", "Maternal non-intrusiveness (EA Scales)"]
    assert set(alphas["recordings"]) == {3}
    assert "weighted kappa (quadratic)" in list(statistics["statistic"])
    assert "n = 3 recordings scored by both" in texts(at)


def test_the_fidelity_page_is_for_the_pi_only(as_user):
    as_user("pat")
    at = open_page("views/fidelity.py")
    assert not at.exception
    assert "Treatment fidelity" in texts(at)
    assert set(at.dataframe[0].value["clinician"]) == {"clinician Q"}
    as_user("fay")
    refused = run(PAGES / "fidelity.py")
    assert "not available to your account" in texts(refused) and not refused.dataframe


def test_every_pi_reading_the_fidelity_page_is_audited_and_sees_the_latest_draw(as_user, web_study):
    """The figures are cached for every PI, the read of the key is not: each view is audited in its reader's name."""
    report_cache._cached.clear()
    with web_study.store.write() as db:
        add_account(db, "pia", "pi", "pia-password-1", "test")
    as_user("pat")
    assert run(PAGES / "fidelity.py").dataframe[2].value.empty  # no draw yet
    draw_fidelity(web_study.store, fraction=1.0, seed=3, actor="pat")
    as_user("pia")
    draws = run(PAGES / "fidelity.py").dataframe[2].value
    assert draws[["seed", "drawn"]].values.tolist() == [[3, 1]]
    as_user("pat")
    assert set(run(PAGES / "fidelity.py").dataframe[0].value["sampled"]) == {1}
    readers = [e.actor for e in audit_rows(web_study.store, "unblind.key_table")]
    assert readers == ["pat", "pia", "pat"]


def test_streamlit_lists_no_page_folder_before_the_apps_own_navigation():
    """Streamlit lists every script of a ``pages`` folder beside the entry script (``PagesManager``) until the
    app's own navigation replaces the list: a rater's first page after sign-in showed the PI pages' names. The
    pages live in ``views``, listed only by ``st.navigation`` for the account's roles."""
    for entry in (APP, APP.with_name("launcher.py")):  # what PagesManager looks for, once per process
        assert not (entry.parent / "pages").exists()
