"""The app process killed (SIGKILL) in the middle of coding, then restarted: nothing acknowledged is lost.

A real `obscode run` serves a small SQLite study; Debian's chromium, driven by Playwright, signs
in as the coder, submits one recording (two scales) and chooses a score on the next. The moment
the page has acknowledged that draft ("Draft saved at ..."), the server's whole process group is
killed with SIGKILL: no shutdown code runs. Then the database is checked directly, the audit log
is replayed against it, and a new `obscode run` on the same database shows the coder the
submitted recording locked and the draft's score chosen, through the browser and the blinded door.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from coding_app import blinded
from coding_app.accounts import account_named
from coding_app.audit_replay import rating_table, replay
from coding_app.store import Store
from tests.coding_app.helpers import PASSWORD, add_account, audit_rows
from tests.conftest import wait_until
from tests.e2e.conftest import (
    ROOT,
    SERVER_START_TIMEOUT,
    VENV_BIN,
    Demo,
    _free_port,
    _healthy,
    _tail,
    open_recording,
    reran,
    settle,
)
from tests.e2e.test_coding import choose, scale_groups, score, wait_checked
from tests.faults.load import make_study

SENSITIVITY, NON_INTRUSIVENESS = "ea_sensitivity", "ea_non_intrusiveness"
DRAFT_SAVED = re.compile(r"^Draft saved at \d\d:\d\d:\d\d$")


@contextmanager
def obscode_run(env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real `obscode run` in its own process group; yields it and its base URL, and ends it if still there."""
    port = _free_port()
    with log.open("ab") as out:
        server = subprocess.Popen(
            [str(VENV_BIN / "obscode"), "run", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(
            lambda: _healthy(f"{base}/_stcore/health") or server.poll() is not None,
            SERVER_START_TIMEOUT,
            f"`obscode run` to start:\n{_tail(log)}",
        )
        assert server.poll() is None, f"`obscode run` exited:\n{_tail(log)}"
        yield server, base
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=15)


def signed_in(new_context, base: str, name: str, root: Path) -> tuple[object, Demo]:
    """A new page signed in as ``name`` through the login form, and the e2e helpers' view of the server."""
    page = new_context().new_page()
    page.set_default_timeout(30_000)
    page.goto(f"{base}/obscode/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    settle(page)
    return page, Demo(base_url=base, study=root, manifest=[])


@pytest.fixture
def study(tmp_path):
    """One coder with two videos in a SQLite study; the environment `obscode run` needs for it."""
    url = f"sqlite:///{tmp_path / 'study.db'}"
    store = Store(url)
    (name,) = make_study(store, 1, 2)
    add_account(store, "pi.one", "pi")
    store.dispose()
    env = os.environ | {"OBSCODE_DATABASE_URL": url, "OBSCODE_MEDIA_DIR": str(tmp_path / "media")}
    return url, name, env


def test_what_was_acknowledged_before_a_sigkill_is_there_after_a_restart(study, tmp_path, new_context):
    url, name, env = study
    log = tmp_path / "server.log"
    store = Store(url)
    with store.read() as db:
        coder, pi = account_named(db, name), account_named(db, "pi.one")
    submitted, drafted = (item.code for item in blinded.queue(store, coder))
    with obscode_run(env, log) as (server, base):
        page, demo = signed_in(new_context, base, name, tmp_path)
        open_recording(page, demo, submitted)
        for group, label in zip(scale_groups(page).all(), ("5.5", "4"), strict=True):
            score(page, group, label)
        with reran(page):
            page.get_by_role("button", name="Submit ratings").click()
        with reran(page):
            page.get_by_role("button", name="Yes, submit").click()
        expect(page.get_by_text(re.compile(r"^Submitted and locked"))).to_be_visible()
        open_recording(page, demo, drafted)
        choose(scale_groups(page).first, "6")
        expect(page.get_by_text(DRAFT_SAVED).first).to_be_visible()
        os.killpg(server.pid, signal.SIGKILL)
        assert server.wait(timeout=15) == -signal.SIGKILL

    saved = {
        code: {k: (r.score, r.status) for k, r in blinded.task(store, coder, code).ratings.items()}
        for code in (submitted, drafted)
    }
    assert saved == {
        submitted: {SENSITIVITY: (5.5, "submitted"), NON_INTRUSIVENESS: (4.0, "submitted")},
        drafted: {SENSITIVITY: (6.0, "draft")},
    }
    assert replay(audit_rows(store)) == rating_table(store, pi)

    with obscode_run(env, log) as (_, base):
        page, demo = signed_in(new_context, base, name, tmp_path)
        open_recording(page, demo, drafted)
        first, second = scale_groups(page).all()
        wait_checked(first, "6")
        score(page, second, "3.5")
        open_recording(page, demo, submitted)
        expect(page.get_by_text(re.compile(r"^Submitted and locked"))).to_be_visible()

    assert blinded.task(store, coder, drafted).ratings[NON_INTRUSIVENESS].score == 3.5  # saving works after restart
    store.dispose()
