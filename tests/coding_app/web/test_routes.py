"""Login, logout, media, waveform and library routes over HTTP: what a browser, or an attacker, can get."""

import hashlib
import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from argon2 import PasswordHasher
from itsdangerous import TimestampSigner
from sqlalchemy import delete, func, select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from streamlit.testing.v1 import AppTest

from coding_app import audit, blinded, logins
from coding_app.logins import identify, media_token
from coding_app.playback import PEAKS_PER_SECOND
from coding_app.store import Store, StoreUnavailable
from coding_app.store.models import AuditEntry, PlaybackFacts, WebSession
from coding_app.web import identity
from coding_app.web.assets import module_urls
from coding_app.web.routes import ACCEL_REDIRECT, FORM_COOKIE, MAX_FORM_BYTES, PEAKS_PATH, peaks_url, routes
from coding_app.web.runtime import COOKIE, LOGIN_PATH, LOGOUT_PATH, MEDIA_PATH

from .conftest import FORM_TOKEN, PASSWORDS, post_form

ROOT = Path(__file__).resolve().parents[3]
SERVER_START_POLLS = 240
"""Health checks a starting `obscode run` gets (a quarter second apart) before the test gives up."""
FLOOD = 24
"""Concurrent logins with unknown names while a coder saves (more than a client's failure limit)."""


@pytest.fixture
def client(web_study):
    return TestClient(Starlette(routes=routes()))


def log_in(client: TestClient, name: str, password: str, **kwargs):
    return post_form(client, LOGIN_PATH, {"name": name, "password": password}, **kwargs)


def sign_in(client: TestClient, name: str) -> str:
    assert log_in(client, name, PASSWORDS[name]).status_code == 303
    return client.cookies[COOKIE]


def token_for(web_study, cookie: str, code: str) -> str:
    return media_token(web_study.store, identify(web_study.store, cookie), code)


def test_login_sets_an_httponly_lax_cookie_and_wrong_password_is_401(client):
    assert log_in(client, "ann", "nope").status_code == 401
    response = log_in(client, "ann", PASSWORDS["ann"])
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie


def test_secure_cookie_behind_an_https_proxy(client):
    response = log_in(client, "ann", PASSWORDS["ann"], headers={"x-forwarded-proto": "https"})
    assert "Secure" in response.headers["set-cookie"]


def test_login_is_throttled_after_repeated_failures_even_with_the_right_password(client):
    for _ in range(logins.MAX_FAILURES):
        assert log_in(client, "bob", "guess").status_code == 401
    blocked = log_in(client, "bob", PASSWORDS["bob"])
    assert blocked.status_code == 429 and "too many failed attempts" in blocked.text
    # Another account is not affected.
    assert log_in(client, "ann", PASSWORDS["ann"]).status_code == 303


def test_media_streams_with_ranges_and_says_nothing_about_the_file(client, web_study):
    cookie = sign_in(client, "ann")
    url = f"/obscode/media/{token_for(web_study, cookie, web_study.codes['ann'][0])}"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert whole.headers["accept-ranges"] == "bytes" and "content-disposition" not in whole.headers
    assert whole.headers["last-modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    part = client.get(url, headers={"Range": "bytes=10-109"})
    assert part.status_code == 206 and part.content == whole.content[10:110]
    assert part.headers["content-range"] == f"bytes 10-109/{len(whole.content)}"
    assert client.get(url, headers={"Range": f"bytes={len(whole.content) + 10}-"}).status_code == 416
    head = client.head(url)
    assert head.status_code == 200 and int(head.headers["content-length"]) == len(whole.content)


def test_media_refuses_anything_but_this_sessions_own_assigned_recording(client, web_study):
    ann = sign_in(client, "ann")
    fay_code = web_study.codes["fay"][0]
    assert client.get(f"/obscode/media/{token_for(web_study, ann, fay_code)}").status_code == 403  # not assigned
    assert client.get(f"/obscode/media/{token_for(web_study, ann, 'NOSUCH99')}").status_code == 403
    good = token_for(web_study, ann, web_study.codes["ann"][0])
    assert client.get(f"/obscode/media/{good[:-2]}xx").status_code == 403  # forged signature
    other = TestClient(Starlette(routes=routes()))
    bob = sign_in(other, "bob")
    assert other.get(f"/obscode/media/{good}").status_code == 403  # another user's token
    assert TestClient(Starlette(routes=routes())).get(f"/obscode/media/{good}").status_code == 403  # no cookie
    assert bob != ann


def test_behind_nginx_media_are_authorised_here_and_handed_to_its_internal_location(client, web_study, monkeypatch):
    from coding_app.blinded import media

    monkeypatch.setenv(ACCEL_REDIRECT, "/_protected_media/")
    cookie = sign_in(client, "ann")
    code = web_study.codes["ann"][0]
    answer = client.get(f"/obscode/media/{token_for(web_study, cookie, code)}", headers={"Range": "bytes=0-9"})
    assert answer.status_code == 200 and answer.content == b""
    assert (
        answer.headers["x-accel-redirect"]
        == f"/_protected_media/{media(web_study.store, web_study.account('ann'), code).name}"
    )
    assert answer.headers["content-type"] == "video/mp4" and answer.headers["cache-control"] == "private, no-store"
    assert answer.headers["x-content-type-options"] == "nosniff" and "content-disposition" not in answer.headers
    refused = client.get(f"/obscode/media/{token_for(web_study, cookie, web_study.codes['fay'][0])}")
    assert refused.status_code == 403 and "x-accel-redirect" not in refused.headers


@pytest.mark.parametrize(
    "path",
    ["/obscode/media/../../etc/passwd", "/obscode/media/%2e%2e%2fweb.db", "/obscode/media/..%2F..%2Fetc%2Fpasswd"],
)
def test_path_traversal_gets_nothing(client, path):
    sign_in(client, "ann")
    response = client.get(path)
    assert response.status_code in (403, 404)
    assert b"root:" not in response.content and b"SQLite" not in response.content


def test_expired_media_token_is_refused(client, web_study, monkeypatch):
    cookie = sign_in(client, "ann")
    stale = TimestampSigner.get_timestamp(None) - int(logins.MEDIA_TOKEN_LIFETIME.total_seconds()) - 60
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: stale)
    token = token_for(web_study, cookie, web_study.codes["ann"][0])
    monkeypatch.undo()
    assert client.get(f"/obscode/media/{token}").status_code == 403


def test_missing_media_file_is_a_clear_404(client, web_study):
    cookie = sign_in(client, "ann")
    code = web_study.codes["ann"][0]
    from coding_app.blinded import media

    web_study.media.path(media(web_study.store, web_study.account("ann"), code).name).unlink()
    response = client.get(f"/obscode/media/{token_for(web_study, cookie, code)}")
    assert response.status_code == 404 and "missing" in response.text


# --------------------------------------------------------------------------- the player's waveform and library


def peaks_of(web_study, name: str, code: str) -> bytes:
    return blinded.playback_facts(web_study.store, web_study.account(name), code, web_study.media).peaks


@pytest.mark.parametrize("name", ["ann", "fay"])  # a video's sound, a session audio
def test_peaks_are_the_recordings_envelope_and_nothing_else_kept_for_the_tokens_life(client, web_study, name):
    cookie = sign_in(client, name)
    code = web_study.codes[name][0]
    url = peaks_url(f"{MEDIA_PATH}/{token_for(web_study, cookie, code)}")
    answer = client.get(url)
    assert answer.status_code == 200 and answer.content == peaks_of(web_study, name, code)
    assert len(answer.content) >= 2 * PEAKS_PER_SECOND  # the two-second clip, a byte a tenth
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["cache-control"] == f"private, max-age={6 * 3600}, immutable"
    assert answer.headers["x-content-type-options"] == "nosniff"
    # nothing about the file: no name, date or validator to compare recordings by
    assert not {"content-disposition", "last-modified", "etag"} & set(answer.headers)


def test_peaks_refuse_what_the_media_refuse_and_each_refusal_is_audited(client, web_study):
    ann = sign_in(client, "ann")
    own = token_for(web_study, ann, web_study.codes["ann"][0])
    fay_code = web_study.codes["fay"][0]
    other = TestClient(Starlette(routes=routes()))
    sign_in(other, "bob")
    for who, token, audited in (
        (client, token_for(web_study, ann, fay_code), ("refused.recording", "ann", fay_code)),  # not assigned
        (client, f"{own[:-2]}xx", ("refused.media", "ann", None)),  # forged
        (other, own, ("refused.media", "bob", web_study.codes["ann"][0])),  # another session's token
        (TestClient(Starlette(routes=routes())), own, ("refused.media", "anonymous", web_study.codes["ann"][0])),
    ):
        answer = who.get(f"{PEAKS_PATH}/{token}")
        assert answer.status_code == 403 and answer.text == "Forbidden"
        assert last_audit(web_study)[0][:3] == audited


def test_peaks_of_a_recording_measured_on_first_use_whose_file_is_gone_is_a_clear_404(client, web_study):
    cookie = sign_in(client, "ann")
    code = web_study.codes["ann"][0]
    with web_study.store.write() as db:  # imported before the import measured
        db.execute(delete(PlaybackFacts))
    web_study.media.path(blinded.media(web_study.store, web_study.account("ann"), code).name).unlink()
    answer = client.get(f"{PEAKS_PATH}/{token_for(web_study, cookie, code)}")
    assert answer.status_code == 404 and "missing" in answer.text


def test_the_drawing_library_is_served_by_content_named_urls_kept_for_a_year(client):
    urls = module_urls()
    assert set(urls) == {"WaveSurfer", "Timeline", "Zoom"}
    dist = ROOT / "coding_app/web/waveform/node_modules/wavesurfer.js/dist"
    for url, file in zip(
        urls.values(), ("wavesurfer.esm.js", "plugins/timeline.esm.js", "plugins/zoom.esm.js"), strict=True
    ):
        body = (dist / file).read_bytes()
        assert re.fullmatch(rf"/obscode/assets/[a-z]+-{hashlib.sha256(body).hexdigest()[:16]}\.js", url), url
        answer = TestClient(Starlette(routes=routes())).get(url)  # no session needed: public code
        assert answer.status_code == 200 and answer.content == body
        assert answer.headers["content-type"].startswith("text/javascript")
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    stale = re.sub(r"-[0-9a-f]{16}\.js$", "-0000000000000000.js", urls["WaveSurfer"])
    for missing in (stale, "/obscode/assets/package.json", "/obscode/assets/..%2Fplayer.py"):
        assert client.get(missing).status_code == 404, missing


def test_logout_revokes_the_session_and_the_old_cookie_is_worthless(client, web_study):
    cookie = sign_in(client, "ann")
    token = token_for(web_study, cookie, web_study.codes["ann"][0])
    signed_out = post_form(client, LOGOUT_PATH)
    assert signed_out.status_code == 303 and signed_out.headers["location"] == LOGIN_PATH
    replay = TestClient(Starlette(routes=routes()), cookies={COOKIE: cookie})
    assert replay.get(f"/obscode/media/{token}").status_code == 403
    assert identify(web_study.store, cookie) is None


def test_idle_and_expired_sessions_end(client, web_study, monkeypatch):
    cookie = sign_in(client, "ann")
    assert identify(web_study.store, cookie) is not None
    monkeypatch.setattr(logins, "IDLE_TIMEOUT", timedelta(seconds=-1))
    assert identify(web_study.store, cookie) is None


def test_forged_and_unknown_session_cookies_identify_nobody(web_study):
    from itsdangerous import Signer

    assert identify(web_study.store, "abc.def") is None
    signed_unknown = Signer(logins.secret_key(web_study.store), salt="obscode-session").sign("made-up").decode()
    assert identify(web_study.store, signed_unknown) is None
    other_secret = Signer("not the study's secret", salt="obscode-session").sign("made-up").decode()
    assert identify(web_study.store, other_secret) is None


def test_the_launcher_mounts_these_routes_beside_streamlit():
    """st.App raises at construction if a route collides with Streamlit's reserved paths."""
    from coding_app.web.launcher import app

    paths = {route.path for route in routes()}
    assert paths == {
        "/obscode/login",
        "/obscode/logout",
        "/obscode/session",
        "/obscode/media/{token:path}",
        "/obscode/peaks/{token:path}",
        "/obscode/assets/{name}",
    }
    assert not any(p.startswith(("/_stcore/", "/media/", "/component/", "/static/", "/auth/")) for p in paths)
    assert type(app).__name__ == "App"


# --------------------------------------------------------------------------- forms only obscode's own pages post


def last_audit(web_study, count: int = 1) -> list[tuple]:
    with web_study.store.read() as db:
        rows = db.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(count)).all()
    return [(r.action, r.actor, r.entity_id, r.reason) for r in reversed(rows)]


def live_sessions(web_study) -> int:
    with web_study.store.read() as db:
        return db.scalar(select(func.count()).select_from(WebSession).where(WebSession.revoked_at.is_(None)))


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
        {"origin": "https://evil.example"},
        {"origin": "null"},
    ],
)
def test_a_login_posted_from_another_site_is_refused_and_audited(client, web_study, headers):
    response = log_in(client, "ann", PASSWORDS["ann"], headers=headers)
    assert response.status_code == 403 and "did not come from this page" in response.text
    assert COOKIE not in response.cookies and live_sessions(web_study) == 0
    assert last_audit(web_study) == [("refused.login", "anonymous", "ann", "cross-site post")]


def test_a_browsers_own_post_with_its_origin_signs_in(client):
    own = {"sec-fetch-site": "same-origin", "origin": "http://testserver"}
    assert log_in(client, "ann", PASSWORDS["ann"], headers=own).status_code == 303
    assert (
        log_in(
            TestClient(Starlette(routes=routes())), "ann", PASSWORDS["ann"], headers={"origin": "http://testserver"}
        ).status_code
        == 303
    )


def test_a_login_without_this_browsers_own_form_token_is_refused(client, web_study):
    """A page elsewhere can fetch a token with its own pre-session cookie; the victim's browser sends another."""
    attacker = TestClient(Starlette(routes=routes()))
    token = FORM_TOKEN.search(attacker.get(LOGIN_PATH).text).group(1)
    client.get(LOGIN_PATH)  # the victim's browser has a pre-session cookie of its own
    credentials = {"name": "bob", "password": PASSWORDS["bob"]}
    attempts = [
        client.post(LOGIN_PATH, data={**credentials, "form_token": token}),
        client.post(LOGIN_PATH, data=credentials),
        TestClient(Starlette(routes=routes())).post(LOGIN_PATH, data={**credentials, "form_token": token}),
        client.post(LOGIN_PATH, data={**credentials, "form_token": token[:-3] + "abc"}),
    ]
    assert [r.status_code for r in attempts] == [403] * 4 and live_sessions(web_study) == 0
    assert last_audit(web_study, 4) == [("refused.login", "anonymous", "bob", "missing or invalid form token")] * 4


def test_the_sign_in_form_cookie_is_httponly_lax_and_only_for_the_login_path(client):
    cookie = client.get(LOGIN_PATH).headers["set-cookie"]
    assert cookie.startswith(f"{FORM_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert f"Path={LOGIN_PATH}" in cookie
    assert "set-cookie" not in client.get(LOGIN_PATH).headers  # kept: two open sign-in tabs both work


def test_a_link_to_sign_out_only_offers_a_button(client, web_study):
    cookie = sign_in(client, "ann")
    page = client.get(LOGOUT_PATH, follow_redirects=False)
    assert page.status_code == 200 and f'method="post" action="{LOGOUT_PATH}"' in page.text
    assert identify(web_study.store, cookie) is not None


@pytest.mark.parametrize(
    "headers, token",
    [({"sec-fetch-site": "cross-site"}, True), ({"origin": "https://evil.example"}, True), ({}, False)],
)
def test_a_sign_out_posted_from_elsewhere_is_refused_and_audited(client, web_study, headers, token):
    cookie = sign_in(client, "ann")
    form = {"form_token": FORM_TOKEN.search(client.get(LOGOUT_PATH).text).group(1)} if token else {}
    response = client.post(LOGOUT_PATH, data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 403 and "did not come from obscode" in response.text
    assert identify(web_study.store, cookie) is not None
    why = "cross-site post" if token else "missing or invalid form token"
    assert last_audit(web_study) == [("refused.logout", "ann", "ann", why)]


def test_a_sign_out_token_is_good_only_for_its_own_session(client, web_study):
    sign_in(client, "ann")
    other = TestClient(Starlette(routes=routes()))
    bobs = sign_in(other, "bob")
    token = FORM_TOKEN.search(other.get(LOGOUT_PATH).text).group(1)
    assert client.post(LOGOUT_PATH, data={"form_token": token}, follow_redirects=False).status_code == 403
    assert identify(web_study.store, bobs) is not None and live_sessions(web_study) == 2


def test_the_apps_sign_out_control_posts_a_form_the_route_accepts(client, web_study, monkeypatch):
    cookie = sign_in(client, "ann")
    monkeypatch.setattr(identity, "current", lambda: identify(web_study.store, cookie))
    at = AppTest.from_file(str(Path(identity.__file__).with_name("app.py")), default_timeout=60).run()
    forms = [element.proto.body for element in at.html if LOGOUT_PATH in element.proto.body]
    assert len(forms) == 1 and f'method="post" action="{LOGOUT_PATH}"' in forms[0]
    assert not [m for m in at.markdown if LOGOUT_PATH in m.value]  # no link that signs out
    token = FORM_TOKEN.search(forms[0]).group(1)
    signed_out = client.post(LOGOUT_PATH, data={"form_token": token}, follow_redirects=False)
    assert signed_out.status_code == 303 and identify(web_study.store, cookie) is None


# --------------------------------------------------------------------------- what a stranger can make the study keep


def test_a_megabyte_login_name_is_refused_unread(client, web_study):
    response = log_in(client, "n" * 1_000_000, "whatever")
    assert response.status_code == 413 and "at most 100 characters" in response.text
    assert last_audit(web_study) == [
        ("refused.login", "anonymous", None, f"form of {len(response.request.content)} bytes, over {MAX_FORM_BYTES}")
    ]


def test_a_login_name_longer_than_any_accounts_is_refused_and_kept_cut(client, web_study):
    response = log_in(client, "n" * 5000, "whatever")
    assert response.status_code == 400 and "at most 100 characters" in response.text
    ((action, actor, entity_id, reason),) = last_audit(web_study)
    assert (action, actor, len(entity_id)) == ("refused.login", "anonymous", audit.ID_WIDTH)
    assert reason == "account name of 5000 or password of 8 characters"


# --------------------------------------------------------------------------- a flood of logins


def test_a_login_flood_never_holds_up_a_coders_saves_and_never_answers_500(client, web_study, monkeypatch):
    """Every password check of the flood waits until the coder has saved all her drafts.

    While a check held the database's write lock (as it did), the coder's saves waited for it and
    gave up ("database busy"), and so did the other logins; now nothing is held while it runs.
    """
    ann, code = web_study.account("ann"), web_study.codes["ann"][1]
    checking, saved = threading.Semaphore(0), threading.Event()
    verify = PasswordHasher.verify

    def held_up(self, hash, password):  # noqa: A002 - argon2's own parameter name
        checking.release()
        saved.wait(timeout=120)
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", held_up)

    def stranger(number: int) -> int:
        browser = TestClient(Starlette(routes=routes()), raise_server_exceptions=False)
        return log_in(browser, f"stranger{number}", "a-guess-number").status_code

    scores = [1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0]
    with ThreadPoolExecutor(max_workers=FLOOD) as pool:
        flood = [pool.submit(stranger, number) for number in range(FLOOD)]
        assert checking.acquire(timeout=120), "no login of the flood reached its password check"
        try:
            for score in scores:
                blinded.save_draft(web_study.store, ann, code, "ea_sensitivity", score)
        finally:
            saved.set()
        statuses = [attempt.result() for attempt in flood]
    assert set(statuses) <= {401, 429} and len(statuses) == FLOOD
    assert blinded.task(web_study.store, ann, code).ratings["ea_sensitivity"].score == scores[-1]
    with web_study.store.read() as db:
        saves = db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.actor == "ann", AuditEntry.action == "rating.draft")
        )
    assert saves == len(scores)


def test_an_unavailable_database_answers_503_with_the_reason(client, web_study, monkeypatch):
    def busy(*args, **kwargs):
        raise StoreUnavailable("busy")

    cookie = sign_in(client, "ann")
    monkeypatch.setattr(Store, "write", busy)
    for response in (
        log_in(TestClient(Starlette(routes=routes()), raise_server_exceptions=False), "ann", "wrong-pass"),
        post_form(client, LOGOUT_PATH),
    ):
        assert response.status_code == 503 and "busy with other writers" in response.text, response.text
    assert identify(web_study.store, cookie) is not None


# --------------------------------------------------------------------------- Streamlit's own open doors


@pytest.mark.parametrize("operator_asks, status", [(None, 404), ("on", 200)])
def test_streamlit_metrics_answer_only_when_the_operator_asks(web_study, tmp_path, operator_asks, status):
    """A real `obscode run`: /_stcore/metrics is refused unless OBSCODE_METRICS=on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "OBSCODE_METRICS"} | {"PYTHONPATH": str(ROOT)}
    env |= {"OBSCODE_METRICS": operator_asks} if operator_asks else {}
    base = f"http://127.0.0.1:{port}"
    with (tmp_path / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [str(Path(sys.executable).with_name("obscode")), "run", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            for _ in range(SERVER_START_POLLS):
                with suppress(httpx.TransportError):
                    if http.get("/_stcore/health").status_code == 200:
                        break
                assert server.poll() is None, (tmp_path / "server.log").read_text()
                time.sleep(0.25)
            assert http.get("/_stcore/metrics").status_code == status
            assert http.get("/_stcore/metrics/", follow_redirects=True).status_code == status
            assert http.get("/_stcore/health").status_code == 200 and http.get(LOGIN_PATH).status_code == 200
    finally:
        server.terminate()
        server.wait(timeout=30)
