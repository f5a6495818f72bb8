"""Accounts and sign-in in a real browser (#14), on a small study of its own (the demo's accounts stay as they are):
the signed-out app names no page, /queue is the queue, a wrong password keeps the name, a deactivated coder's
open page signs them out at their next action, a reset password must be replaced before anything else, and a
coder with both coding roles codes videos and sessions from one queue. Screenshots at 1280x720."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from typer.testing import CliRunner

from coding_app import accounts
from coding_app.assignments import assign
from coding_app.cli import app as cli_app
from coding_app.media import MediaStore
from coding_app.store import Store
from tests.coding_app.web.conftest import MANIFEST, PASSWORDS, _clip, build_web_study

from .conftest import LOGIN_PATH, ROOT, SCREENSHOTS, VENV_BIN, _free_port, queue_rows, reran, serving, settle, sign_in

SMALL = {"width": 1280, "height": 720}
SIGNED_OUT = "You are not signed in, or your session has ended."
CODERS = {"dee": "dee-password-1", "rex": "rex-password-1"}
TEMPORARY, CHOSEN = "temporary-password-9", "rex-chosen-password-2"


@dataclass
class Small:
    base_url: str
    store: Store

    def url(self, path: str) -> str:
        return self.base_url + path

    def obscode(self, *args: str, **env: str):
        """A PI's command, in this process, on the study the server serves."""
        url = self.store.engine.url.render_as_string(hide_password=False)
        result = CliRunner().invoke(
            cli_app, ["--db", url, "--as", "pat", *args], env={"OBSCODE_PASSWORD": PASSWORDS["pat"], **env}
        )
        assert result.exit_code == 0, result.output
        return result.stdout


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """The web tests' study (ann, bob, fay, pat) plus dee and rex, coders; ann also codes fidelity."""
    tmp = tmp_path_factory.mktemp("accounts-e2e")
    sources = tmp / "sources"
    sources.mkdir()
    for i, name in enumerate(("PX01_baseline.mp4", "PX01_month5.mp4", "PX02_baseline.mp4")):
        _clip(sources / name, 300 + 50 * i, video=True)
    _clip(sources / "PX01_session2.m4a", 700, video=False)
    (sources / "manifest.csv").write_text(MANIFEST)
    url, media = f"sqlite:///{tmp / 'study.db'}", tmp / "media"
    store = Store(url)
    store.upgrade()
    build_web_study(store, MediaStore(media), sources)
    with store.write() as db:
        for name, password in CODERS.items():
            accounts.add_account(db, name, "coder", password, "test")
    assign(store, list(CODERS), kind="video", seed=2, actor="test")
    port = _free_port()
    env = {**os.environ, "OBSCODE_DATABASE_URL": url, "OBSCODE_MEDIA_DIR": str(media)}
    base_url = f"http://127.0.0.1:{port}"
    with serving(
        [str(VENV_BIN / "obscode"), "run", "--port", str(port)],
        f"{base_url}/_stcore/health",
        tmp / "server.log",
        cwd=ROOT,
        env=env,
    ):
        yield Small(base_url, store)
    store.dispose()


@pytest.fixture
def small_page(browser_page):
    browser_page.set_viewport_size(SMALL)
    return browser_page


def test_signed_out_the_app_lists_no_page_and_every_address_asks_to_sign_in(small_page, small):
    for path in ("/", "/queue", "/agreement", "/code?recording=X"):
        small_page.goto(small.url(path))
        settle(small_page)
        small_page.get_by_text(SIGNED_OUT).wait_for()
        assert small_page.locator("[data-testid=stSidebarNav]").count() == 0
        for name in (
            "My queue",
            "Agreement",
            "Coding progress",
            "Treatment fidelity",
            "Outcomes",
            "Change my password",
        ):
            assert small_page.get_by_text(name, exact=True).count() == 0, (path, name)
        assert small_page.get_by_text("Page not found").count() == 0, path
    small_page.screenshot(path=SCREENSHOTS / "signed-out-1280x720.png")


def test_a_wrong_password_keeps_the_name_and_the_queue_has_its_own_address(small_page, small):
    small_page.goto(small.url(LOGIN_PATH))
    small_page.fill("#name", "bob")
    small_page.fill("#password", "not bob's password")
    with small_page.expect_navigation():
        small_page.click("button[type=submit]")
    assert small_page.locator("[role=alert]").inner_text() == "wrong name or password"
    assert small_page.input_value("#name") == "bob" and small_page.input_value("#password") == ""
    assert small_page.evaluate("document.activeElement.id") == "password"
    small_page.screenshot(path=SCREENSHOTS / "sign-in-refused-1280x720.png")

    sign_in(small_page, small, "bob", PASSWORDS["bob"])
    assert small_page.url == small.url("/queue")
    small_page.goto(small.url("/queue"))
    settle(small_page)
    small_page.get_by_role("heading", name="My queue").wait_for()
    assert small_page.get_by_text("Page not found").count() == 0
    assert [r["Recording"] for r in queue_rows(small_page)] == [item.code for item in _queue(small, "bob")]


def test_deactivating_a_coder_ends_their_open_session_at_their_next_action(small_page, small):
    sign_in(small_page, small, "dee", CODERS["dee"])
    small_page.get_by_role("heading", name="My queue").wait_for()
    assert small.obscode("user", "deactivate", "dee").startswith("deactivated dee")
    with reran(small_page):
        small_page.get_by_role("button", name="Continue where I left off", exact=False).click()
    small_page.get_by_text(SIGNED_OUT).wait_for()
    assert small_page.locator("[data-testid=stDataFrame]").count() == 0
    small_page.goto(small.url(LOGIN_PATH))
    small_page.fill("#name", "dee")
    small_page.fill("#password", CODERS["dee"])
    with small_page.expect_navigation():
        small_page.click("button[type=submit]")
    assert small_page.locator("[role=alert]").inner_text() == "wrong name or password"


def test_after_a_reset_the_coder_chooses_a_new_password_before_anything_else(small_page, small):
    sign_in(small_page, small, "rex", CODERS["rex"])
    small.obscode("user", "reset", "rex", OBSCODE_NEW_PASSWORD=TEMPORARY)
    small_page.reload()
    settle(small_page)
    small_page.get_by_text(SIGNED_OUT).wait_for()  # the reset ended the session

    sign_in(small_page, small, "rex", TEMPORARY)
    for path in ("/code", "/queue", "/"):  # the change is made where the sign-in lands
        small_page.goto(small.url(path))
        settle(small_page)
        small_page.get_by_role("heading", name="Choose a new password").wait_for()
        assert small_page.locator("[data-testid=stDataFrame]").count() == 0
        assert small_page.locator("[data-testid=stSidebarNav]").count() == 0
    small_page.screenshot(path=SCREENSHOTS / "password-forced-1280x720.png")
    small_page.get_by_label("Temporary password from the PI").fill(TEMPORARY)
    small_page.get_by_label("New password", exact=True).fill(CHOSEN)
    small_page.get_by_label("New password again").fill(CHOSEN)
    with reran(small_page):
        small_page.get_by_role("button", name="Save my new password").click()
    small_page.get_by_role("heading", name="My queue").wait_for()
    assert "must change" not in small.obscode("user", "list").split("rex", 1)[1].splitlines()[0]

    with reran(small_page):
        small_page.get_by_role("link", name="Change my password").click()
    small_page.get_by_role("heading", name="Change my password").wait_for()
    small_page.screenshot(path=SCREENSHOTS / "password-change-1280x720.png")


def test_a_coder_with_both_coding_roles_codes_videos_and_sessions_from_one_queue(small_page, small):
    assert (
        small.obscode("user", "role", "ann", "--add", "fidelity").strip() == "ann now has the coder and fidelity roles"
    )
    assign(small.store, ["ann"], kind="audio", seed=3, actor="test")
    sign_in(small_page, small, "ann", PASSWORDS["ann"])
    small_page.get_by_text("EA rater and fidelity coder").wait_for()
    rows = queue_rows(small_page)
    assert sorted(r["Kind"] for r in rows) == ["audio", "video", "video", "video"]
    session = next(r["Recording"] for r in rows if r["Kind"] == "audio")
    small_page.goto(small.url(f"/code?recording={session}"))
    settle(small_page)
    small_page.get_by_text("VIPP-PMH adherence to the manual").first.wait_for()


def _queue(small: Small, name: str):
    from coding_app import blinded

    with small.store.read() as db:
        account = accounts.account_named(db, name)
    return blinded.queue(small.store, account)
