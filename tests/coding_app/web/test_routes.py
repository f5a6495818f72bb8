"""Login, logout and media routes over HTTP: what a browser, or an attacker, can get."""

from datetime import timedelta

import pytest
from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.testclient import TestClient

from coding_app import sessions
from coding_app.sessions import identify, media_token
from coding_app.web.routes import routes
from coding_app.web.runtime import COOKIE

from .conftest import PASSWORDS


@pytest.fixture
def client(web_study):
    return TestClient(Starlette(routes=routes()))


def sign_in(client: TestClient, name: str) -> str:
    response = client.post("/obscode/login", data={"name": name, "password": PASSWORDS[name]}, follow_redirects=False)
    assert response.status_code == 303
    return client.cookies[COOKIE]


def token_for(web_study, cookie: str, code: str) -> str:
    return media_token(web_study.store, identify(web_study.store, cookie), code)


def test_login_sets_an_httponly_lax_cookie_and_wrong_password_is_401(client):
    assert client.post("/obscode/login", data={"name": "ann", "password": "nope"}).status_code == 401
    response = client.post("/obscode/login", data={"name": "ann", "password": PASSWORDS["ann"]}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie


def test_secure_cookie_behind_an_https_proxy(client):
    response = client.post("/obscode/login", data={"name": "ann", "password": PASSWORDS["ann"]},
                           headers={"x-forwarded-proto": "https"}, follow_redirects=False)  # fmt: skip
    assert "Secure" in response.headers["set-cookie"]


def test_login_is_throttled_after_repeated_failures_even_with_the_right_password(client):
    for _ in range(sessions.MAX_FAILURES):
        assert client.post("/obscode/login", data={"name": "bob", "password": "guess"}).status_code == 401
    blocked = client.post("/obscode/login", data={"name": "bob", "password": PASSWORDS["bob"]})
    assert blocked.status_code == 429 and "too many failed attempts" in blocked.text
    # Another account is not affected.
    assert client.post("/obscode/login", data={"name": "ann", "password": PASSWORDS["ann"]},
                       follow_redirects=False).status_code == 303  # fmt: skip


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


@pytest.mark.parametrize("path", ["/obscode/media/../../etc/passwd", "/obscode/media/%2e%2e%2fweb.db",
                                  "/obscode/media/..%2F..%2Fetc%2Fpasswd"])  # fmt: skip
def test_path_traversal_gets_nothing(client, path):
    sign_in(client, "ann")
    response = client.get(path)
    assert response.status_code in (403, 404)
    assert b"root:" not in response.content and b"SQLite" not in response.content


def test_expired_media_token_is_refused(client, web_study, monkeypatch):
    cookie = sign_in(client, "ann")
    stale = TimestampSigner.get_timestamp(None) - int(sessions.MEDIA_TOKEN_LIFETIME.total_seconds()) - 60
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


def test_logout_revokes_the_session_and_the_old_cookie_is_worthless(client, web_study):
    cookie = sign_in(client, "ann")
    token = token_for(web_study, cookie, web_study.codes["ann"][0])
    assert client.get("/obscode/logout", follow_redirects=False).status_code == 303
    replay = TestClient(Starlette(routes=routes()), cookies={COOKIE: cookie})
    assert replay.get(f"/obscode/media/{token}").status_code == 403
    assert identify(web_study.store, cookie) is None


def test_idle_and_expired_sessions_end(client, web_study, monkeypatch):
    cookie = sign_in(client, "ann")
    assert identify(web_study.store, cookie) is not None
    monkeypatch.setattr(sessions, "IDLE_TIMEOUT", timedelta(seconds=-1))
    assert identify(web_study.store, cookie) is None


def test_forged_and_unknown_session_cookies_identify_nobody(web_study):
    from itsdangerous import Signer

    assert identify(web_study.store, "abc.def") is None
    signed_unknown = Signer(sessions.secret_key(web_study.store), salt="obscode-session").sign("made-up").decode()
    assert identify(web_study.store, signed_unknown) is None
    other_secret = Signer("not the study's secret", salt="obscode-session").sign("made-up").decode()
    assert identify(web_study.store, other_secret) is None


def test_the_launcher_mounts_these_routes_beside_streamlit():
    """st.App raises at construction if a route collides with Streamlit's reserved paths."""
    from coding_app.web.launcher import app

    paths = {route.path for route in routes()}
    assert paths == {"/obscode/login", "/obscode/logout", "/obscode/session", "/obscode/media/{token:path}"}
    assert not any(p.startswith(("/_stcore/", "/media/", "/component/", "/static/", "/auth/")) for p in paths)
    assert type(app).__name__ == "App"
