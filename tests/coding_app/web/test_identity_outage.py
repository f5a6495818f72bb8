"""The entry script while the database cannot be reached: the identity already checked in this
browser session stands in; with none, a clear message instead of a traceback."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from coding_app.logins import Identity
from coding_app.store import StoreUnavailable
from coding_app.web import identity

APP = Path(identity.__file__).with_name("app.py")


@pytest.fixture
def cookie_check(web_study, monkeypatch):
    """Make the session-cookie check answer as ``state`` says: an account name, or "down"."""
    state = {"now": None}

    def identify(_store, _cookie):
        if state["now"] == "down":
            raise StoreUnavailable("unreachable")
        return Identity(web_study.account(state["now"]), "test-session")

    monkeypatch.setattr(identity, "identify", identify)
    return state


def test_a_coder_checked_before_the_outage_keeps_their_page(cookie_check):
    cookie_check["now"] = "ann"
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert at.title[0].value == "My queue"
    cookie_check["now"] = "down"
    at.run()
    assert not at.exception
    assert at.title[0].value == "My queue" and at.dataframe


def test_with_no_identity_checked_yet_the_outage_is_a_clear_message(cookie_check):
    cookie_check["now"] = "down"
    at = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not at.exception
    assert "cannot be reached just now" in at.error[0].value
    assert not at.dataframe and [b.label for b in at.button] == ["Try again"]
