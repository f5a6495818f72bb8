"""The app's sign-in and account pages (#14) with AppTest: what a signed-out visitor sees, the forced
password change after a reset, a voluntary change, and one queue for a coder with both coding roles.

AppTest cannot send cookies: the identity is supplied at the pages' one seam (identity.current),
read fresh from the database on every run, as the cookie check does.
"""

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from coding_app import accounts
from coding_app.assignments import assign
from coding_app.logins import Identity
from coding_app.web import identity
from coding_app.web.routes import routes
from coding_app.web.runtime import LOGIN_PATH
from tests.coding_app.helpers import audit_rows
from tests.coding_app.web.conftest import PASSWORDS, post_form

APP = Path(identity.__file__).with_name("app.py")
NEW = "fay-own-password-2"


@pytest.fixture
def as_user(web_study, monkeypatch):
    def sign_in(name: str | None) -> None:
        monkeypatch.setattr(
            identity, "current", lambda: None if name is None else Identity(web_study.account(name), "test-session")
        )

    return sign_in


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "info", "error", "success") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def app(page: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    return at.switch_page(page).run() if page else at


def password_form(at: AppTest, current: str, new: str, again: str | None = None) -> AppTest:
    fields = at.text_input
    fields[0].input(current)
    fields[1].input(new)
    fields[2].input(new if again is None else again)
    return at.button[0].click().run()


def test_a_signed_out_visitor_gets_the_sign_in_prompt_only(as_user):
    """(Any other address answers the same, and the sidebar lists no page: tests/e2e/test_accounts.py.)"""
    as_user(None)
    at = app()
    assert "not signed in" in texts(at) and not at.exception
    assert not at.dataframe and not at.text_input


def test_after_a_reset_the_new_password_form_comes_before_anything_else(as_user, web_study):
    accounts.reset_password(web_study.store, web_study.account("pat"), "fay", "temporary-password-1")
    as_user("fay")
    at = app()  # whatever the address (the browser test opens /code and /queue)
    assert "Choose a new password" in texts(at) and "reset your password" in texts(at)
    assert not at.dataframe and not at.radio
    at = password_form(at, "temporary-password-1", NEW, "something-else-1")
    assert "not the same" in texts(at) and web_study.account("fay").must_change_password
    at = password_form(at, "wrong-password-1", NEW)
    assert "The current password is not right" in texts(at) and web_study.account("fay").must_change_password
    at = password_form(at, "temporary-password-1", NEW)
    assert not web_study.account("fay").must_change_password
    assert "My queue" in texts(at) and list(at.dataframe[0].value["Recording"]) == web_study.codes["fay"]
    assert accounts.authenticate(web_study.store, "fay", NEW) is not None


def test_any_account_may_change_its_own_password(as_user, web_study):
    as_user("ann")
    at = password_form(app("views/password.py"), PASSWORDS["ann"], "ann-new-password-2")
    assert "Your new password is saved" in texts(at)
    assert accounts.authenticate(web_study.store, "ann", "ann-new-password-2") is not None
    assert [e.actor for e in audit_rows(web_study.store, "account.password")] == ["ann"]


def test_a_coder_with_both_coding_roles_has_videos_and_sessions_in_one_queue(as_user, web_study):
    accounts.change_roles(web_study.store, web_study.account("pat"), "ann", add=["fidelity"])
    assign(web_study.store, ["ann"], kind="audio", seed=2, actor="test")
    as_user("ann")
    at = app()
    queue = at.dataframe[0].value
    assert sorted(queue["Kind"]) == ["audio", "video", "video", "video"]
    assert "EA rater and fidelity coder" in texts(at)


def test_a_wrong_password_keeps_the_name_typed_and_puts_the_cursor_in_the_password(web_study):
    client = TestClient(Starlette(routes=routes()))
    blank = client.get(LOGIN_PATH).text
    assert '<input id="name" name="name" value=""' in blank and 'maxlength="100" required autofocus>' in blank
    refused = post_form(client, LOGIN_PATH, {"name": 'ann"<b>', "password": "not her password"})
    assert refused.status_code == 401 and "wrong name or password" in refused.text
    assert 'value="ann&quot;&lt;b&gt;"' in refused.text  # kept, and escaped
    assert 'maxlength="100" required>' in refused.text and 'maxlength="1000"\n required autofocus>' in refused.text
