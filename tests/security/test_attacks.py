"""Every role tries what it must not do: each attempt is refused, audited, and changes nothing.

The attempts are one table, ``ATTACKS``. Each names who tries it and how it is set up
(``arm``, which may sign in, sign out or fail logins: that is the scene, not the attempt), then
fires it. For every attempt the test checks that it was refused with the expected status,
exception or message and handed nothing over; that exactly the expected audit row was written,
naming the actor and nothing that identifies a participant; and that no other table changed.
Where the same request has a rightful owner, ``control`` makes it as that owner and must get
what it asks for, so a refusal is never just a broken request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pandas as pd
import pytest
from itsdangerous import Signer, TimestampSigner
from sqlalchemy import func, select
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from coding_app import (
    analysis,
    audit_log,
    blinded,
    certification_report,
    coder_agreement,
    consensus,
    export,
    fidelity,
    flags,
    lock,
    logins,
    progress,
    ratings,
    unblinding,
)
from coding_app.cli import app as cli_app
from coding_app.logins import Identity, identify
from coding_app.store.models import Account, WebSession, now
from coding_app.web import identity
from coding_app.web.runtime import COOKIE, LOGIN_PATH, LOGOUT_PATH, MEDIA_PATH
from tests.coding_app.web.conftest import FORM_TOKEN

from .conftest import IDENTIFYING, PASSWORDS, Bench, post_form

APP = Path(identity.__file__).with_name("app.py")
PAGES = APP.with_name("views")
REFUSED_PAGE = "This page is not available to your account."
NOT_IN_QUEUE = "That recording is not in your queue."


@dataclass(frozen=True)
class Outcome:
    status: str
    """An HTTP status, the exception raised, ``page refused``/``page shown``, or ``exit N``."""
    shown: str
    """What the attacker was told (body, message, page text, command output)."""
    handed: int
    """How much data came back: media bytes, table rows, widgets to rate with, bytes written."""


Fire = Callable[[], Outcome]


@dataclass(frozen=True)
class Attack:
    name: str
    who: str
    """The actor the audit row must name ("anonymous" when no account is behind the attempt)."""
    arm: Callable[[Bench], Fire]
    """Set the scene (sign in, sign out, fail logins...) and return the attempt itself."""
    status: str
    says: str
    audited: str
    """The audit action its refusal writes."""
    control: Callable[[Bench], Fire] | None = None
    """The same request by its rightful user: must be granted."""


# --------------------------------------------------------------------------- ways in


def over_http(response) -> Outcome:
    """Media bytes are what a media request hands over; a session cookie is what a login does."""
    media_bytes = (
        len(response.content) if response.headers.get("content-type", "").startswith(("video/", "audio/")) else 0
    )
    session = int(COOKIE in response.cookies)
    return Outcome(str(response.status_code), "" if media_bytes else response.text, media_bytes + session)


def get_media(bench: Bench, cookie: str | None, token: str) -> Outcome:
    return over_http(bench.client(cookie).get(f"{MEDIA_PATH}/{token}"))


def log_in(bench: Bench, name: str, password: str) -> Outcome:
    """A sign-in through obscode's own form, as a browser makes it."""
    return over_http(post_form(bench.client(), LOGIN_PATH, {"name": name, "password": password}))


def sign_out(bench: Bench, cookie: str, form: dict[str, str], headers: dict[str, str]) -> Outcome:
    """A sign-out post from ``cookie``'s browser; what it hands over is the sessions it ended."""
    ended = select(func.count()).select_from(WebSession).where(WebSession.revoked_at.is_not(None))
    with bench.store.read() as db:
        before = db.scalar(ended)
    response = bench.client(cookie).post(LOGOUT_PATH, data=form, headers=headers, follow_redirects=False)
    with bench.store.read() as db:
        return Outcome(str(response.status_code), response.text, db.scalar(ended) - before)


def at_the_door(function: Callable, *args: object) -> Outcome:
    """A direct call of a domain function, as a script or notebook with the database would make it."""
    try:
        result = function(*args)
    except Exception as error:  # noqa: BLE001 - the refusal is the outcome
        return Outcome(type(error).__name__, str(error), 0)
    table = result[0] if isinstance(result, tuple) else result
    return Outcome("returned", "", len(table) if isinstance(table, pd.DataFrame) else 1)


def on_page(bench: Bench, name: str, page: str, query: dict[str, str] | None = None) -> Outcome:
    """A page as ``name`` sees it; the coding page through the app's navigation, others run as their own script.

    A PI page is not in a coder's navigation at all; running its script is the page's own wall.
    """
    who = Identity(bench.account(name), "attack-session")
    with mock.patch.object(identity, "current", lambda: who):
        at = AppTest.from_file(str(APP if page == "code" else PAGES / f"{page}.py"), default_timeout=60)
        for key, value in (query or {}).items():
            at.query_params[key] = value
        at.run()
        if page == "code":
            at.switch_page("views/code.py").run()
    assert not at.exception, at.exception
    shown = "\n".join(
        str(e.value) for kind in ("title", "markdown", "caption", "info", "error", "success") for e in getattr(at, kind)
    )
    refused = REFUSED_PAGE in shown or NOT_IN_QUEUE in shown
    return Outcome("page refused" if refused else "page shown", shown, len(at.dataframe) + len(at.radio))


def on_the_command_line(bench: Bench, name: str, *args: str) -> Outcome:
    """``obscode --as NAME ...`` with NAME's password; an export writes to a file of the bench's."""
    output = bench.root / "export.csv"
    writes = ["--output", str(output)] if args[0] == "export" else []
    result = CliRunner().invoke(cli_app, ["--as", name, *args, *writes], env={"OBSCODE_PASSWORD": PASSWORDS[name]})
    done = output.stat().st_size if output.exists() else int(result.exit_code == 0 and not writes)
    return Outcome(f"exit {result.exit_code}", result.output, done)


# --------------------------------------------------------------------------- scenes


def door(name: str, function: Callable, code: Callable[[Bench], str], *args: object) -> Callable[[Bench], Fire]:
    return lambda b: lambda: at_the_door(function, b.store, b.account(name), code(b), *args)


def page(name: str, script: str, code: Callable[[Bench], str] | None = None) -> Callable[[Bench], Fire]:
    return lambda b: lambda: on_page(b, name, script, {"recording": code(b)} if code else None)


def pi_action(name: str, function: Callable, *args: object) -> Callable[[Bench], Fire]:
    return lambda b: lambda: at_the_door(function, b.store, b.account(name) if name else None, *args)


def command(name: str, *args: str | Callable[[Bench], str]) -> Callable[[Bench], Fire]:
    return lambda b: lambda: on_the_command_line(b, name, *(a(b) if callable(a) else a for a in args))


def own_media(name: str, code: Callable[[Bench], str]) -> Callable[[Bench], Fire]:
    """``name`` asks for the media of ``code`` with a token of their own session."""

    def arm(b: Bench) -> Fire:
        cookie = b.sign_in(name)
        token = b.token(cookie, code(b))
        return lambda: get_media(b, cookie, token)

    return arm


def media_with(tamper: Callable[[Bench, str, str], tuple[str | None, str]]) -> Callable[[Bench], Fire]:
    """ann signs in and is handed a token for her first recording; ``tamper`` makes the (cookie, token) sent."""

    def arm(b: Bench) -> Fire:
        cookie = b.sign_in("ann")
        sent = tamper(b, cookie, b.token(cookie, b.codes["ann"][0]))
        return lambda: get_media(b, *sent)

    return arm


def signed_out(b: Bench, cookie: str, token: str) -> tuple[str, str]:
    assert post_form(b.client(cookie), LOGOUT_PATH).status_code == 303
    return cookie, token


def old_token_in_a_new_session(b: Bench, cookie: str, token: str) -> tuple[str, str]:
    signed_out(b, cookie, token)
    return b.sign_in("ann"), token


def others_token(b: Bench, cookie: str, token: str) -> tuple[str, str]:
    """bob's token for a recording both code, sent with ann's own live session."""
    bobs = b.sign_in("bob")
    return cookie, b.token(bobs, b.codes["ann"][0])


def expired_token(b: Bench, cookie: str, token: str) -> tuple[str, str]:
    stale = TimestampSigner.get_timestamp(None) - int(logins.MEDIA_TOKEN_LIFETIME.total_seconds()) - 60
    with mock.patch.object(TimestampSigner, "get_timestamp", lambda self: stale):
        return cookie, b.token(cookie, b.codes["ann"][0])


def session_row(change: Callable[[WebSession, Account], None]) -> Callable[[Bench, str, str], tuple[str, str]]:
    """Change ann's session (or account) in the database, as time or the PI would."""

    def tamper(b: Bench, cookie: str, token: str) -> tuple[str, str]:
        session_id = identify(b.store, cookie).session_id
        with b.store.write() as db:
            session = db.get(WebSession, session_id)
            change(session, db.get(Account, session.account_id))
        return cookie, token

    return tamper


def forged_signature(b: Bench, cookie: str, token: str) -> tuple[str, str]:
    """The token with its signature reversed (changing only a last character may touch just base64 padding)."""
    payload, _, signature = token.rpartition(".")
    return cookie, f"{payload}.{signature[::-1]}"


def traversal(path: str) -> Callable[[Bench, str, str], tuple[str, str]]:
    return lambda b, cookie, token: (cookie, path)


def made_up_session(secret: Callable[[Bench], str]) -> Callable[[Bench, str, str], tuple[str, str]]:
    return lambda b, cookie, token: (Signer(secret(b), salt="obscode-session").sign("made-up").decode(), token)


def brute_force(b: Bench) -> Fire:
    for _ in range(logins.MAX_FAILURES):
        assert log_in(b, "bob", "guess-number-x").status == "401"
    return lambda: log_in(b, "bob", PASSWORDS["bob"])


def guessing_many_names(b: Bench) -> Fire:
    """One address fails with as many names as it may, then tries a real account's right password."""
    for number in range(logins.MAX_CLIENT_FAILURES):
        assert log_in(b, f"guess{number}", "guess-number-x").status == "401"
    return lambda: log_in(b, "bob", PASSWORDS["bob"])


def login_from_another_site(headers: dict[str, str]) -> Callable[[Bench], Fire]:
    """ann's browser, signed in, posts bob's credentials from another site's page, with the token that
    page fetched for itself (with its own pre-session cookie, which ann's browser does not send)."""

    def arm(b: Bench) -> Fire:
        victim = b.client(b.sign_in("ann"))
        token = FORM_TOKEN.search(b.client().get(LOGIN_PATH).text).group(1)
        form = {"name": "bob", "password": PASSWORDS["bob"], "form_token": token}
        return lambda: over_http(victim.post(LOGIN_PATH, data=form, headers=headers, follow_redirects=False))

    return arm


def sign_out_from_another_site(headers: dict[str, str]) -> Callable[[Bench], Fire]:
    """Another site's page posts ann's browser to the sign-out route (it cannot know her form's token)."""

    def arm(b: Bench) -> Fire:
        cookie = b.sign_in("ann")
        return lambda: sign_out(b, cookie, {}, headers)

    return arm


def own_sign_out(b: Bench) -> Fire:
    cookie = b.sign_in("ann")
    token = FORM_TOKEN.search(b.client(cookie).get(LOGOUT_PATH).text).group(1)
    return lambda: sign_out(b, cookie, {"form_token": token}, {"sec-fetch-site": "same-origin"})


def login_form(name: str, password: str) -> Callable[[Bench], Fire]:
    """A browser is shown the sign-in form (the scene), then posts it filled in with ``name`` and ``password``."""

    def arm(b: Bench) -> Fire:
        browser = b.client()
        form = {
            "name": name,
            "password": password,
            "form_token": FORM_TOKEN.search(browser.get(LOGIN_PATH).text).group(1),
        }
        return lambda: over_http(browser.post(LOGIN_PATH, data=form, follow_redirects=False))

    return arm


def own_login(b: Bench) -> Fire:
    return lambda: log_in(b, "bob", PASSWORDS["bob"])


def ann_code(b: Bench) -> str:
    return b.codes["ann"][0]


def bob_only(b: Bench) -> str:
    return b.template.bob_only


def fay_code(b: Bench) -> str:
    return b.codes["fay"][0]


def submitted(b: Bench) -> str:
    return b.template.submitted


FORBIDDEN = ("403", "Forbidden", "refused.media")
DEAD_SESSION = ("403", "Forbidden", "refused.session")
OWN_FIRST_MEDIA = own_media("ann", ann_code)
UNBLINDED = ("export", "ratings", "--unblinded")
REOPEN = ("reopen", submitted, "bob", "ea_sensitivity", "--reason", "second look")

ATTACKS = [
    # A coder reaching for a recording that is not theirs: the door, the coding page, its media.
    Attack(
        "coder opens another coder's recording at the door",
        "ann",
        door("ann", blinded.task, bob_only),
        "NotFound",
        blinded.NOT_ASSIGNED,
        "refused.recording",
        door("bob", blinded.task, bob_only),
    ),
    Attack(
        "coder drafts a score on another coder's recording",
        "ann",
        door("ann", blinded.save_draft, bob_only, "ea_sensitivity", 7.0),
        "NotFound",
        blinded.NOT_ASSIGNED,
        "refused.recording",
        door("bob", blinded.save_draft, bob_only, "ea_sensitivity", 7.0),
    ),
    Attack(
        "coder opens another coder's recording by the coding page's URL",
        "ann",
        page("ann", "code", bob_only),
        "page refused",
        NOT_IN_QUEUE,
        "refused.recording",
        page("bob", "code", bob_only),
    ),
    Attack(
        "coder streams another coder's recording with a token for it",
        "ann",
        own_media("ann", bob_only),
        *FORBIDDEN[:2],
        "refused.recording",
        own_media("bob", bob_only),
    ),
    Attack(
        "fidelity coder opens a play video at the door",
        "fay",
        door("fay", blinded.task, ann_code),
        "NotFound",
        blinded.NOT_ASSIGNED,
        "refused.recording",
        door("ann", blinded.task, ann_code),
    ),
    Attack(
        "fidelity coder opens a play video by the coding page's URL",
        "fay",
        page("fay", "code", ann_code),
        "page refused",
        NOT_IN_QUEUE,
        "refused.recording",
        page("ann", "code", ann_code),
    ),
    Attack(
        "EA rater opens a session audio at the door",
        "ann",
        door("ann", blinded.task, fay_code),
        "NotFound",
        blinded.NOT_ASSIGNED,
        "refused.recording",
        door("fay", blinded.task, fay_code),
    ),
    Attack(
        "PI streams a recording through the coders' door",
        "pat",
        own_media("pat", ann_code),
        *FORBIDDEN[:2],
        "refused.recording",
        OWN_FIRST_MEDIA,
    ),
    # Flags: a coder flags only their own recording; only the PI decides on a flag.
    Attack(
        "coder flags another coder's recording",
        "ann",
        door("ann", blinded.flag, bob_only, "no_sound"),
        "NotFound",
        blinded.NOT_ASSIGNED,
        "refused.recording",
    ),
    Attack(
        "coder sends a flag back to the queue",
        "ann",
        pi_action("ann", flags.clear, 1, "back"),
        "NotAllowed",
        "needs the pi role",
        "refused.flag",
    ),
    Attack(
        "coder excludes a recording from the study",
        "ann",
        pi_action("ann", flags.exclude, 1, "not needed"),
        "NotAllowed",
        "needs the pi role",
        "refused.flag",
    ),
    # Pages of another role: each page checks the role itself, whatever the navigation offers.
    *(
        Attack(
            f"{role} opens the PI page {name}",
            who,
            page(who, name),
            "page refused",
            REFUSED_PAGE,
            "refused.page",
            page("pat", name),
        )
        for role, who in (("coder", "ann"), ("fidelity coder", "fay"))
        for name in ("agreement", "progress", "certification", "fidelity")
    ),
    Attack(
        "PI opens the coders' queue page",
        "pat",
        page("pat", "queue"),
        "page refused",
        REFUSED_PAGE,
        "refused.page",
        page("ann", "queue"),
    ),
    # What only a PI may do.
    Attack(
        "coder exports ratings unblinded",
        "ann",
        pi_action("ann", export.ratings_table, True),
        "NotAllowed",
        "needs the pi role",
        "refused.export",
        pi_action("pat", export.ratings_table, True),
    ),
    Attack(
        "unblinded export with no account",
        "anonymous",
        pi_action("", export.ratings_table, True),
        "PermissionError",
        "needs a PI account",
        "refused.export",
        pi_action("pat", export.ratings_table, True),
    ),
    Attack(
        "coder reads the unblinding key",
        "ann",
        pi_action("ann", unblinding.key_table, "curiosity"),
        "NotAllowed",
        "needs the pi role",
        "refused.unblinding",
        pi_action("pat", unblinding.key_table, "analysis"),
    ),
    Attack(
        "fidelity coder reads the audit log",
        "fay",
        pi_action("fay", audit_log.audit_entries),
        "NotAllowed",
        "needs the pi role",
        "refused.audit",
        pi_action("pat", audit_log.audit_entries),
    ),
    *(
        Attack(
            f"coder calls the PI's {label}",
            "ann",
            pi_action("ann", function),
            "NotAllowed",
            "needs the pi role",
            audited,
            pi_action("pat", function),
        )
        for label, function, audited in (
            ("agreement report", coder_agreement.agreement_report, "refused.agreement"),
            ("coding progress", progress.coder_progress, "refused.progress"),
            ("fidelity report", fidelity.fidelity_report, "refused.fidelity"),
            ("certification status", certification_report.certification_status, "refused.certification"),
            ("consensus ratings", consensus.consensus_ratings, "refused.consensus"),
        )
    ),
    Attack(
        "coder records a consensus rating",
        "ann",
        door("ann", consensus.record_consensus, submitted, "ea_sensitivity", 5.0, "my view"),
        "NotAllowed",
        "needs the pi role",
        "refused.consensus",
        door("pat", consensus.record_consensus, submitted, "ea_sensitivity", 5.0, "reviewed together"),
    ),
    Attack(
        "coder reopens a submitted rating at the door",
        "ann",
        door("ann", ratings.reopen, submitted, "bob", "ea_sensitivity", "second look"),
        "NotAllowed",
        "needs the pi role",
        "refused.reopen",
        door("pat", ratings.reopen, submitted, "bob", "ea_sensitivity", "second look"),
    ),
    Attack(
        "coder runs the unblinded export command",
        "ann",
        command("ann", *UNBLINDED),
        "exit 2",
        "not a PI account",
        "refused.command",
        command("pat", *UNBLINDED),
    ),
    Attack(
        "coder reopens a submitted rating",
        "ann",
        command("ann", *REOPEN),
        "exit 2",
        "not a PI account",
        "refused.command",
        command("pat", *REOPEN),
    ),
    # The database lock and the outcomes behind it.
    Attack(
        "coder reads the analysis dataset (the outcomes)",
        "ann",
        pi_action("ann", analysis.analysis_dataset, "curiosity"),
        "NotAllowed",
        "needs the pi role",
        "refused.unblinding",
        pi_action("pat", analysis.analysis_dataset, "data monitoring committee"),
    ),
    Attack(
        "coder locks coding at the door",
        "ann",
        pi_action("ann", lock.lock),
        "NotAllowed",
        "needs the pi role",
        "refused.lock",
        pi_action("pat", lock.lock),
    ),
    Attack(
        "coder runs obscode lock",
        "ann",
        command("ann", "lock"),
        "exit 2",
        "not a PI account",
        "refused.command",
        command("pat", "lock"),
    ),
    # Media tokens: another user's, replayed, forged, stale, or without a session.
    Attack(
        "coder uses another user's media token", "ann", media_with(others_token), *FORBIDDEN, own_media("bob", ann_code)
    ),
    Attack(
        "media token from a signed-out session, in a new session",
        "ann",
        media_with(old_token_in_a_new_session),
        *FORBIDDEN,
        OWN_FIRST_MEDIA,
    ),
    Attack(
        "media URL without any session",
        "anonymous",
        media_with(lambda b, cookie, token: (None, token)),
        *FORBIDDEN,
        OWN_FIRST_MEDIA,
    ),
    Attack("media token with a forged signature", "ann", media_with(forged_signature), *FORBIDDEN, OWN_FIRST_MEDIA),
    Attack("expired media token", "ann", media_with(expired_token), *FORBIDDEN, OWN_FIRST_MEDIA),
    # Session cookies: replayed after sign-out, forged, run out.
    Attack("cookie replayed after sign-out", "ann", media_with(signed_out), *DEAD_SESSION, OWN_FIRST_MEDIA),
    Attack(
        "forged cookie: not signed at all",
        "anonymous",
        media_with(lambda b, c, t: ("made-up.cookie", t)),
        *DEAD_SESSION,
        OWN_FIRST_MEDIA,
    ),
    Attack(
        "forged cookie: signed with another secret",
        "anonymous",
        media_with(made_up_session(lambda b: "not the study's secret")),
        *DEAD_SESSION,
        OWN_FIRST_MEDIA,
    ),
    Attack(
        "forged cookie: the study's secret, a made-up session",
        "anonymous",
        media_with(made_up_session(lambda b: logins.secret_key(b.store))),
        *DEAD_SESSION,
        OWN_FIRST_MEDIA,
    ),
    Attack(
        "cookie of an expired session",
        "ann",
        media_with(session_row(lambda s, a: setattr(s, "expires_at", now() - timedelta(seconds=1)))),
        *DEAD_SESSION,
        OWN_FIRST_MEDIA,
    ),
    Attack(
        "cookie of a session idle too long",
        "ann",
        media_with(session_row(lambda s, a: setattr(s, "last_seen_at", now() - logins.IDLE_TIMEOUT))),
        *DEAD_SESSION,
        OWN_FIRST_MEDIA,
    ),
    Attack(
        "cookie of a deactivated account",
        "ann",
        media_with(session_row(lambda s, a: setattr(a, "active", False))),
        *DEAD_SESSION,
        OWN_FIRST_MEDIA,
    ),
    # Path traversal on the media route, as far as a client sends it to the server.
    *(
        Attack(f"path traversal {path}", "ann", media_with(traversal(path)), *FORBIDDEN, OWN_FIRST_MEDIA)
        for path in (
            "%2e%2e%2fweb.db",
            "..%2F..%2Fetc%2Fpasswd",
            "%2e%2e/%2e%2e/etc/passwd",
            "..%5c..%5cweb.db",
            "....//....//web.db",
            "/etc/passwd",
        )
    ),
    # Guessing a password: the sixth try is refused even when it is right.
    Attack(
        "login brute force: the sixth attempt, with the right password",
        "anonymous",
        brute_force,
        "429",
        "too many failed attempts",
        "login.throttled",
        own_login,
    ),
    Attack(
        "one address guessing many names: the next attempt, with a right password",
        "anonymous",
        guessing_many_names,
        "429",
        "too many failed attempts from this address",
        "login.throttled",
        own_login,
    ),
    # Forms posted by another site's page: a sign-in as someone else (login CSRF), a sign-out.
    Attack(
        "another site signs a signed-in browser in as another coder",
        "anonymous",
        login_from_another_site({"origin": "https://evil.example", "sec-fetch-site": "cross-site"}),
        "403",
        "did not come from this page",
        "refused.login",
        own_login,
    ),
    Attack(
        "another site's sign-in post, from a browser that names no origin",
        "anonymous",
        login_from_another_site({}),
        "403",
        "did not come from this page",
        "refused.login",
        own_login,
    ),
    Attack(
        "another site signs a coder out",
        "ann",
        sign_out_from_another_site({"origin": "https://evil.example", "sec-fetch-site": "cross-site"}),
        "403",
        "did not come from obscode",
        "refused.logout",
        own_sign_out,
    ),
    Attack(
        "a sign-out post without the session's form token",
        "ann",
        sign_out_from_another_site({}),
        "403",
        "did not come from obscode",
        "refused.logout",
        own_sign_out,
    ),
    # What a stranger could make the append-only audit log keep.
    Attack(
        "a megabyte login name",
        "anonymous",
        login_form("n" * 1_000_000, "whatever-x"),
        "413",
        "at most 100 characters",
        "refused.login",
        own_login,
    ),
    Attack(
        "a login name longer than any account's",
        "anonymous",
        login_form("n" * 5000, "whatever-x"),
        "400",
        "at most 100 characters",
        "refused.login",
        own_login,
    ),
]


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_refused_audited_and_nothing_changed(attack: Attack, bench: Bench):
    fire = attack.arm(bench)
    before, last = bench.state(), bench.audit_rows()[-1].id
    outcome = fire()
    assert (outcome.status, outcome.handed) == (attack.status, 0), outcome
    assert attack.says in outcome.shown, outcome
    rows = bench.audit_rows(after=last)
    assert [(r.action, r.actor) for r in rows] == [(attack.audited, attack.who)]
    written = " ".join(str(v) for r in rows for v in (r.entity, r.entity_id, r.old, r.new, r.reason))
    assert not [term for term in IDENTIFYING if term in written], written
    assert not [term for term in IDENTIFYING if term in outcome.shown], outcome.shown
    assert bench.state() == before


@pytest.mark.parametrize("attack", [a for a in ATTACKS if a.control], ids=[a.name for a in ATTACKS if a.control])
def test_the_rightful_user_gets_it(attack: Attack, bench: Bench):
    outcome = attack.control(bench)()
    assert outcome.status in ("200", "303", "returned", "page shown", "exit 0"), outcome
    assert outcome.handed > 0, outcome
