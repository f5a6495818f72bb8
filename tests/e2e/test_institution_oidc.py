"""Institution sign-in, whole: Chromium, `obscode run` and a real OpenID provider on localhost.

The provider is panva's oidc-provider (tests/oidc, installed by `make test` with `npm ci`) under
Debian's Node. obscode is configured the way an operator does it: Streamlit's ``[auth]`` section
in ``.streamlit/secrets.toml`` of the folder `obscode run` starts in. Test people only.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from coding_app.accounts import add_account
from coding_app.codebook import load_codebook
from coding_app.store import Store
from coding_app.store.models import AuditEntry, WebSession
from coding_app.study_setup import initialise

from .conftest import ROOT, VENV_BIN, _free_port, serving, settle

OIDC = ROOT / "tests" / "oidc"
CODER = "ann.lee@uni.example"
STRANGER = "cy.stranger@uni.example"
INSTITUTION_BUTTON = "Sign in with your institution"


@dataclass
class Institution:
    base_url: str
    store: Store
    passwords: dict[str, str]
    """Provider login -> password."""

    def url(self, path: str) -> str:
        return self.base_url + path

    def sessions(self) -> int:
        with self.store.read() as db:
            return db.scalar(select(func.count()).select_from(WebSession))

    def audit_since(self, row_id: int) -> list[AuditEntry]:
        with self.store.read() as db:
            return list(db.scalars(select(AuditEntry).where(AuditEntry.id > row_id).order_by(AuditEntry.id)))

    def last_audit_id(self) -> int:
        with self.store.read() as db:
            return db.scalar(select(func.coalesce(func.max(AuditEntry.id), 0)))


@pytest.fixture(scope="module")
def institution(tmp_path_factory):
    """A study with one coder whose institution email is their account name, served by `obscode run`
    with institution sign-in through a provider that knows that coder and a stranger."""
    assert shutil.which("node"), "institution sign-in tests need Node (make system installs Debian's nodejs)"
    assert (OIDC / "node_modules" / "oidc-provider").is_dir(), "run `make test` (it runs npm ci in tests/oidc)"
    tmp = tmp_path_factory.mktemp("institution")
    database = f"sqlite:///{tmp / 'obscode.db'}"
    store = Store(database)
    initialise(store, load_codebook(), "test")
    with store.write() as db:
        add_account(db, CODER, "coder", secrets.token_urlsafe(16), "test")

    app_port, provider_port = _free_port(), _free_port()
    base_url, issuer = f"http://127.0.0.1:{app_port}", f"http://localhost:{provider_port}"
    client = {
        "client_id": "obscode-tests",
        "client_secret": secrets.token_urlsafe(24),
        "redirect_uris": [f"{base_url}/oauth2callback"],
    }
    passwords = {"ann": secrets.token_urlsafe(12), "cy": secrets.token_urlsafe(12)}
    users = [
        {"login": "ann", "password": passwords["ann"], "sub": "subject-ann", "email": CODER},
        {"login": "cy", "password": passwords["cy"], "sub": "subject-cy", "email": STRANGER},
    ]
    (tmp / ".streamlit").mkdir()
    (tmp / ".streamlit" / "secrets.toml").write_text(
        "[auth]\n"
        f'redirect_uri = "{base_url}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_urlsafe(32)}"\n'
        f'client_id = "{client["client_id"]}"\n'
        f'client_secret = "{client["client_secret"]}"\n'
        f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n'
    )
    provider = ["node", "provider.mjs", json.dumps({"port": provider_port, "client": client, "users": users})]
    app = [str(VENV_BIN / "obscode"), "run", "--port", str(app_port)]
    # HOME too: no secrets.toml of the machine's user may leak into the test's configuration.
    env = os.environ | {
        "HOME": str(tmp),
        "OBSCODE_DATABASE_URL": database,
        "OBSCODE_MEDIA_DIR": str(tmp / "media-store"),
    }
    with (
        serving(provider, f"{issuer}/.well-known/openid-configuration", tmp / "provider.log", cwd=OIDC),
        serving(app, f"{base_url}/_stcore/health", tmp / "server.log", cwd=tmp, env=env),
    ):
        yield Institution(base_url, store, passwords)
    store.dispose()


def sign_in_at_the_institution(page, institution: Institution, login: str) -> None:
    """From obscode's sign-in prompt, through the provider's form, back to obscode."""
    page.goto(institution.url("/"))
    settle(page)
    page.get_by_role("button", name=INSTITUTION_BUTTON).click()
    page.wait_for_url("**/interaction/**")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", institution.passwords[login])
    page.click("button[type=submit]")
    page.wait_for_url(institution.url("/**"))


def test_a_coder_signs_in_with_the_institution_and_replayed_sign_in_links_are_refused(
    institution, browser_page, new_context
):
    page = browser_page
    start, sessions = institution.last_audit_id(), institution.sessions()
    callbacks, tickets = [], []
    page.on("request", lambda r: callbacks.append(r.url) if "/oauth2callback?" in r.url else None)
    page.on("request", lambda r: tickets.append(r.url) if "/obscode/session?" in r.url else None)

    sign_in_at_the_institution(page, institution, "ann")
    page.get_by_role("heading", name="My queue").wait_for()
    settle(page)
    assert CODER in page.get_by_test_id("stSidebar").inner_text()
    assert institution.sessions() == sessions + 1
    assert len(callbacks) == 1 and len(tickets) == 1

    # Within the code's and the ticket's 60 s: the same callback again in this browser, then
    # both links in another browser (someone who copied them from history, a proxy log, a screen).
    page.goto(callbacks[0])
    page.get_by_role("heading", name="My queue").wait_for()
    stranger = new_context().new_page()
    stranger.goto(callbacks[0])
    settle(stranger)
    # The replayed callback ends on the sign-in page: wait for it (the redirect's page load is
    # not a run settle() could count yet), then check no queue was drawn.
    expect(stranger.get_by_role("button", name=INSTITUTION_BUTTON)).to_be_visible()
    assert "My queue" not in stranger.content()
    refused = stranger.goto(tickets[0])
    assert refused.status == 403 and "Sign in again" in stranger.content()
    stranger.goto(institution.url("/"))
    settle(stranger)
    expect(stranger.get_by_role("button", name=INSTITUTION_BUTTON)).to_be_visible()

    assert institution.sessions() == sessions + 1
    rows = institution.audit_since(start)
    assert [(r.action, r.actor, r.entity_id) for r in rows] == [
        ("login.ok", CODER, CODER),
        ("refused.institution_sign_in", "anonymous", None),
        ("refused.institution_sign_in", "anonymous", None),
        ("refused.ticket", "anonymous", CODER),
    ]
    # Nothing from the links themselves (codes, states, tickets) nor the provider's subject is kept.
    written = json.dumps([[r.entity_id, r.old, r.new, r.reason] for r in rows])
    values = [value for url in callbacks + tickets for _, value in parse_qsl(urlsplit(url).query)]
    assert len(values) >= 3 and not [v for v in [*values, "subject-ann"] if v in written]


def test_an_institution_user_without_an_obscode_account_is_refused_clearly(institution, browser_page):
    page = browser_page
    start, sessions = institution.last_audit_id(), institution.sessions()
    sign_in_at_the_institution(page, institution, "cy")
    settle(page)
    page.get_by_text("Your institution account has no obscode account in this study. Ask the PI to add you.").wait_for()
    assert page.get_by_role("button", name="Sign out of your institution").is_visible()
    assert "My queue" not in page.content()
    assert institution.sessions() == sessions
    assert [(r.action, r.actor, r.entity_id) for r in institution.audit_since(start)] == [
        ("login.unknown_institution_account", "anonymous", STRANGER)
    ]
