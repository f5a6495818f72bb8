"""Institution sign-in (OIDC via st.login): the provider's email becomes an ordinary obscode session."""

import re
from datetime import timedelta

from itsdangerous import TimestampSigner
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from coding_app import logins
from coding_app.accounts import add_account
from coding_app.logins import identify
from coding_app.store.models import AuditEntry, WebSession
from coding_app.web import identity
from coding_app.web.routes import routes
from coding_app.web.runtime import COOKIE

APP = identity.__file__.replace("identity.py", "app.py")
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "x" * 32,
    "client_id": "obscode",
    "client_secret": "s",
    "server_metadata_url": "https://idp.example/.well-known/openid-configuration",
}


def signed_in_with_institution(email: str, **claims) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": True, "email": email, **claims}
    return at.run()


def ticket_in(at: AppTest) -> str:
    links = [m.value for m in at.markdown if "/obscode/session?ticket=" in m.value]
    assert len(links) == 1
    return re.search(r"ticket=([^\"]+)", links[0]).group(1)


def test_without_auth_secrets_only_the_password_sign_in_is_offered(web_study):
    at = AppTest.from_file(APP, default_timeout=30).run()
    assert not [b for b in at.button if "institution" in b.label]
    assert any("obscode account" in m.value for m in at.markdown)


def test_with_auth_secrets_the_institution_button_is_offered(web_study):
    at = AppTest.from_file(APP, default_timeout=30)
    at.secrets["auth"] = AUTH
    at.user = {"is_logged_in": False}
    at.run()
    assert [b.label for b in at.button] == ["Sign in with your institution"]


def test_a_known_institution_email_becomes_an_httponly_session(web_study):
    with web_study.store.write() as db:
        add_account(db, "Ann.Lee@uni.example", "coder", "unused-password", "test")
    at = signed_in_with_institution("ann.lee@uni.example")
    ticket = ticket_in(at)
    client = TestClient(Starlette(routes=routes()))
    response = client.get(f"/obscode/session?ticket={ticket}", follow_redirects=False)
    assert response.status_code == 303 and "HttpOnly" in response.headers["set-cookie"]
    who = identify(web_study.store, client.cookies[COOKIE])
    assert who.account.name == "Ann.Lee@uni.example"
    # A rerun of the same page does not mint another session.
    at.run()
    assert ticket_in(at) == ticket
    with web_study.store.read() as db:
        assert db.scalar(select(func.count()).select_from(WebSession)) == 1


def test_an_unknown_institution_email_gets_no_session(web_study):
    at = signed_in_with_institution("stranger@uni.example")
    assert any("no obscode account" in e.value for e in at.error)
    assert not [m for m in at.markdown if "ticket=" in m.value]


def test_an_email_the_provider_has_not_verified_gets_no_session_and_is_audited(web_study):
    with web_study.store.write() as db:
        add_account(db, "ann.lee@uni.example", "coder", "unused-password", "test")
    at = signed_in_with_institution("ann.lee@uni.example", email_verified=False)
    assert any("has not verified your email" in e.value for e in at.error)
    assert not [m for m in at.markdown if "ticket=" in m.value]
    at.run()  # a rerun is the same refusal, audited once
    with web_study.store.read() as db:
        refused = db.scalars(select(AuditEntry).where(AuditEntry.action == "refused.institution_sign_in")).all()
        assert [(e.actor, e.entity_id) for e in refused] == [("anonymous", None)]
        assert db.scalar(select(func.count()).select_from(WebSession)) == 0
    assert ticket_in(signed_in_with_institution("ann.lee@uni.example", email_verified=True))


def test_expired_or_forged_tickets_are_refused(web_study, monkeypatch):
    with web_study.store.write() as db:
        add_account(db, "bo@uni.example", "coder", "unused-password", "test")
    stale = TimestampSigner.get_timestamp(None) - 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: stale)
    old = logins.institution_ticket(web_study.store, "bo@uni.example")
    monkeypatch.undo()
    client = TestClient(Starlette(routes=routes()))
    assert client.get(f"/obscode/session?ticket={old}", follow_redirects=False).status_code == 403
    assert client.get("/obscode/session?ticket=forged", follow_redirects=False).status_code == 403
    assert COOKIE not in client.cookies
    assert logins.TICKET_LIFETIME <= timedelta(minutes=1)


def test_a_ticket_redeemed_again_within_its_lifetime_is_refused_and_audited(store):
    with store.write() as db:
        add_account(db, "cy@uni.example", "coder", "unused-password", "test")
    ticket = logins.institution_ticket(store, "cy@uni.example")
    assert identify(store, logins.redeem_ticket(store, ticket)).account.name == "cy@uni.example"
    # The same sign-in link again (another browser, a history entry, a leaked URL): no second session.
    assert logins.redeem_ticket(store, ticket) is None
    with store.read() as db:
        assert db.scalar(select(func.count()).select_from(WebSession)) == 1
        refusals = db.scalars(select(AuditEntry).where(AuditEntry.action == "refused.ticket")).all()
    assert [(r.actor, r.entity_id, r.reason) for r in refusals] == [
        ("anonymous", "cy@uni.example", "sign-in link used again")
    ]
