"""Custom HTTP routes beside Streamlit: login, logout, media streaming, and the player's waveform and library.

Sign-in and sign-out are posts of obscode's own forms only: each form carries a signed token
bound to a secret of the browser's (see :func:`coding_app.logins.form_token`), and a post the
browser marks as coming from another site is refused, so no other page can sign a browser in or
out. Every refusal is audited; an unavailable database answers 503, never 500.

Not under /auth/ (st.login's paths) nor Streamlit's reserved prefixes. Media are served by
Starlette's FileResponse, which streams in chunks and answers Range, HEAD, 206 and 416 itself,
so memory stays flat however large the file. Behind nginx (OBSCODE_ACCEL_REDIRECT names its
internal location for the media store) the route only authorises: it answers with an
X-Accel-Redirect and nginx sends the bytes. A recording's sound envelope is authorised by the same
token as its media; the player's drawing library is public and served under names that carry its hash.
"""

from __future__ import annotations

import functools
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from html import escape
from typing import TypeVar
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import audit, blinded
from ..accounts import MAX_NAME_LENGTH, MAX_PASSWORD_LENGTH
from ..errors import NotAllowed, NotFound
from ..logins import (
    MEDIA_TOKEN_LIFETIME,
    SESSION_LIFETIME,
    Identity,
    LoginRefused,
    LoginThrottled,
    form_token,
    form_token_fits,
    identify,
    login,
    logout,
    read_media_token,
    redeem_ticket,
    session_reference,
)
from ..media import MediaError
from ..store import Store, StoreUnavailable
from ..store.models import Account
from . import assets, runtime
from .runtime import COOKIE, LOGIN_PATH, LOGOUT_PATH, MEDIA_PATH, SESSION_PATH

_FORBIDDEN = "Forbidden"
PEAKS_PATH = "/obscode/peaks"
"""A recording's sound envelope, for its waveform: the media token authorises it too (see :func:`peaks_url`)."""
_TOKEN_SECONDS = int(MEDIA_TOKEN_LIFETIME.total_seconds())
T = TypeVar("T")


def peaks_url(media_url: str) -> str:
    """Where the player fetches the sound envelope of the recording that ``media_url`` (this app's) plays."""
    if not media_url.startswith(f"{MEDIA_PATH}/"):
        raise ValueError(f"not a media URL of this app: {media_url[:40]!r}")
    return PEAKS_PATH + media_url.removeprefix(MEDIA_PATH)


def _missing() -> Response:
    return PlainTextResponse("This recording's media file is missing. Tell the PI.", status_code=404)


ACCEL_REDIRECT = "OBSCODE_ACCEL_REDIRECT"
"""Environment: the proxy's internal location for the media store (e.g. /_protected_media/); unset, the app sends
media."""
FORM_COOKIE = "obscode_form"
"""The pre-session cookie the sign-in form's token is bound to (only ever sent to the login path)."""
FORM_TOKEN = "form_token"
# Far above any real sign-in (a 100-character name, a 1,000-character password, the token), far
# below what would cost memory: bigger posts are refused before they are read.
MAX_FORM_BYTES = 8 * 1024
_NOT_FROM_HERE = "This sign-in did not come from this page, or the page was open too long. Sign in here."
_TOO_LONG = (
    f"An account name has at most {MAX_NAME_LENGTH} characters and a password at most "
    f"{MAX_PASSWORD_LENGTH:,}: nothing was checked."
)
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>obscode: {title}</title>
<style>
 body {{ font-family: system-ui, sans-serif; background: #f5f6f8; color: #1f2430; margin: 0; }}
 main {{ max-width: 22rem; margin: 12vh auto; background: #fff; padding: 2rem 2.2rem; border-radius: 12px;
        box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
 h1 {{ font-size: 1.4rem; margin: 0 0 .3rem; }} p.lead {{ margin: 0 0 1.4rem; color: #5a6170; }}
 label {{ display: block; font-weight: 600; margin: .9rem 0 .3rem; }}
 input {{ width: 100%; box-sizing: border-box; padding: .6rem .7rem; font-size: 1rem; border: 1px solid #c9ced8;
         border-radius: 8px; }}
 button {{ margin-top: 1.4rem; width: 100%; padding: .7rem; font-size: 1rem; font-weight: 600; color: #fff;
          background: #2f5bd3; border: 0; border-radius: 8px; cursor: pointer; }}
 .error {{ background: #fdecea; color: #8a1c12; padding: .6rem .8rem; border-radius: 8px; margin-bottom: .4rem; }}
</style></head>
<body><main>
<h1>obscode</h1><p class="lead">{lead}</p>
{message}
{body}
</main></body></html>"""
_LOGIN_FORM = """<form method="post" action="{action}">
<input type="hidden" name="{field}" value="{token}">
<label for="name">Account name</label>
<input id="name" name="name" value="{name}" autocomplete="username" maxlength="{name_length}" required{name_focus}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="{password_length}"
 required{password_focus}>
<button type="submit">Sign in</button>
</form>"""
_SIGN_OUT_FORM = """<form class="obscode-sign-out" method="post" action="{action}" style="margin: 0">
<input type="hidden" name="{field}" value="{token}"><button type="submit">Sign out</button>
</form>"""


def _page(title: str, lead: str, body: str, message: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return HTMLResponse(
        _PAGE.format(title=title, lead=lead, message=shown, body=body),
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def sign_out_form(token: str) -> str:
    """The sign-out control: a form that posts, with the session's form token (a link would let any
    page sign a coder out)."""
    return _SIGN_OUT_FORM.format(action=LOGOUT_PATH, field=FORM_TOKEN, token=escape(token))


def sign_out_token(identity: Identity) -> str:
    return form_token(runtime.store(), session_reference(identity.session_id))


def _login_page(request: Request, message: str = "", status: int = 200, name: str = "") -> HTMLResponse:
    """The sign-in form, its token bound to this browser's pre-session cookie (made here if it has none).

    After a refused attempt the name typed stays in its field, and the password field takes the cursor.
    """
    binding = request.cookies.get(FORM_COOKIE) or secrets.token_urlsafe(16)
    focus = (" autofocus", "") if not name else ("", " autofocus")
    form = _LOGIN_FORM.format(
        action=LOGIN_PATH,
        field=FORM_TOKEN,
        token=escape(form_token(runtime.store(), binding)),
        name=escape(name),
        name_focus=focus[0],
        password_focus=focus[1],
        name_length=MAX_NAME_LENGTH,
        password_length=MAX_PASSWORD_LENGTH,
    )
    response = _page("sign in", "Sign in to your coding queue.", form, message, status)
    if binding != request.cookies.get(FORM_COOKIE):
        response.set_cookie(
            FORM_COOKIE, binding, path=LOGIN_PATH, httponly=True, samesite="lax", secure=_https(request)
        )
    return response


def _https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _cross_site(request: Request) -> bool:
    """Whether the browser says this post came from a page of another site.

    Sec-Fetch-Site is set by the browser itself; older browsers send only Origin ("null" from
    sandboxed or privacy-sensitive contexts, which is refused too).
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is not None and urlsplit(origin).netloc != request.headers.get("host")


@dataclass(frozen=True)
class _Refusal:
    reason: str
    """What the audit log says."""
    status: int


async def _posted_form(request: Request, binding: str | None) -> tuple[FormData | None, _Refusal | None]:
    """The posted form, and why it is refused (None if it is not): too big (not read at all),
    cross-site, or without a token issued beside ``binding``."""
    length = request.headers.get("content-length", "")
    if not length.isdigit() or int(length) > MAX_FORM_BYTES:
        return None, _Refusal(f"form of {length or 'unstated'} bytes, over {MAX_FORM_BYTES}", 413)
    form = await request.form()
    if _cross_site(request):
        return form, _Refusal("cross-site post", 403)
    if not binding or not form_token_fits(runtime.store(), str(form.get(FORM_TOKEN, "")), binding):
        return form, _Refusal("missing or invalid form token", 403)
    return form, None


async def login_route(request: Request) -> Response:
    store = runtime.store()
    if request.method == "GET":
        if await run_in_threadpool(identify, store, request.cookies.get(COOKIE)):
            return RedirectResponse("/", status_code=303)
        return _login_page(request)
    form, refusal = await _posted_form(request, request.cookies.get(FORM_COOKIE))
    name, password = (str(form.get(field, "")) for field in ("name", "password")) if form else ("", "")
    if refusal is None and (len(name) > MAX_NAME_LENGTH or len(password) > MAX_PASSWORD_LENGTH):
        refusal = _Refusal(f"account name of {len(name)} or password of {len(password)} characters", 400)
    if refusal is not None:
        await run_in_threadpool(
            audit.refused, store, "anonymous", "refused.login", "account", name or None, reason=refusal.reason
        )
        return _login_page(request, _NOT_FROM_HERE if refusal.status == 403 else _TOO_LONG, refusal.status)
    client = request.client.host if request.client else "unknown"
    try:
        cookie = await run_in_threadpool(login, store, name, password, client)
    except LoginThrottled as throttled:
        return _login_page(request, str(throttled), status=429, name=name)
    except LoginRefused as refused:
        return _login_page(request, str(refused), status=401, name=name)
    return _signed_in(request, cookie)


def _signed_in(request: Request, cookie: str) -> Response:
    """Set the session cookie (HttpOnly, SameSite=Lax, Secure on https) and go to the app."""
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_https(request),
    )
    return response


async def session_route(request: Request) -> Response:
    """Where the app sends a browser after an institution (OIDC) sign-in, to receive its cookie."""
    cookie = await run_in_threadpool(redeem_ticket, runtime.store(), request.query_params.get("ticket", ""))
    if cookie is None:
        return _login_page(request, "That sign-in link has expired. Sign in again.", status=403)
    return _signed_in(request, cookie)


async def logout_route(request: Request) -> Response:
    """Sign out on a post from obscode's own sign-out form; a GET (a link anyone could send) only offers it."""
    store = runtime.store()
    identity = await run_in_threadpool(identify, store, request.cookies.get(COOKIE))
    refusal = None
    if identity is not None and request.method == "POST":
        _, refusal = await _posted_form(request, session_reference(identity.session_id))
        name = identity.account.name
        if refusal is None:
            await run_in_threadpool(logout, store, identity)
            identity = None
        else:
            await run_in_threadpool(
                audit.refused, store, name, "refused.logout", "account", name, reason=refusal.reason
            )
    if identity is None:
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
    message = "That sign-out did not come from obscode. Sign out here if you meant to." if refusal else ""
    return _page(
        "sign out",
        f"Signed in as {escape(identity.account.name)}.",
        sign_out_form(sign_out_token(identity)),
        message,
        refusal.status if refusal else 200,
    )


def _granted(cookie: str | None, token: str, door: Callable[[Store, Account, str], T]) -> T | None:
    """What ``door`` gives this browser of the recording its media token names, or None: refused, and audited once.

    Each refusal is audited where it is decided: a presented but dead cookie by ``identify``, a
    recording not the coder's by the coders' door, the rest (no cookie, a bad token, another
    session's token) here.
    """
    store = runtime.store()
    identity = identify(store, cookie)
    claim = read_media_token(store, token)
    if identity is None and cookie:
        return None  # a dead cookie: identify has audited it
    if identity is None:
        why = "no session"
    elif claim is None:
        why = "invalid or expired media token"
    elif claim[0] != session_reference(identity.session_id):
        why = "media token of another session"
    else:
        try:
            return door(store, identity.account, claim[1])
        except (NotFound, NotAllowed):
            return None
    actor = identity.account.name if identity else "anonymous"
    audit.refused(store, actor, "refused.media", "recording", claim[1] if claim else None, reason=why)
    return None


async def media_route(request: Request) -> Response:
    found = await run_in_threadpool(_granted, request.cookies.get(COOKIE), request.path_params["token"], blinded.media)
    if found is None:
        return PlainTextResponse(_FORBIDDEN, status_code=403)
    path = runtime.media().path(found.name)
    if not path.is_file():
        return _missing()
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    location = os.environ.get(ACCEL_REDIRECT)
    if location:
        # nginx keeps the content type and caching of this answer and sends the file (Range too).
        return Response(media_type=found.media_type, headers={**headers, "X-Accel-Redirect": location + path.name})
    return FileResponse(path, media_type=found.media_type, headers=headers)


def _peaks(store: Store, account: Account, code: str) -> bytes:
    return blinded.playback_facts(store, account, code, runtime.media()).peaks


async def peaks_route(request: Request) -> Response:
    """A recording's sound envelope (one byte per 1/PEAKS_PER_SECOND s), authorised as its media are.

    The bytes only: no name, date or length of the file. The token is the page view's, so the
    browser keeps the answer for the token's life and a rerun asks for nothing.
    """
    try:
        peaks = await run_in_threadpool(_granted, request.cookies.get(COOKIE), request.path_params["token"], _peaks)
    except MediaError:  # measured on first use (imported before measuring) and the file is gone
        return _missing()
    if peaks is None:
        return PlainTextResponse(_FORBIDDEN, status_code=403)
    headers = {"Cache-Control": f"private, max-age={_TOKEN_SECONDS}, immutable", "X-Content-Type-Options": "nosniff"}
    return Response(peaks, media_type="application/octet-stream", headers=headers)


async def assets_route(request: Request) -> Response:
    """The player's drawing library: public code, the same for everyone, named by its content (kept for a year)."""
    path = assets.asset(request.path_params["name"])
    if path is None:
        return PlainTextResponse("Not Found", status_code=404)
    headers = {"Cache-Control": "public, max-age=31536000, immutable", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type="text/javascript", headers=headers)


def _outage_is_503(endpoint: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Answer 503 with the reason while the database cannot serve (busy, unreachable...), never a 500."""

    @functools.wraps(endpoint)
    async def answer(request: Request) -> Response:
        try:
            return await endpoint(request)
        except StoreUnavailable as outage:
            message = f"{str(outage).capitalize()}."
            body = f'<p><a href="{LOGIN_PATH}">Back to sign in</a></p>'
            response = _page("try again", "Not just now.", body, message, status=503)
            response.headers["Retry-After"] = "5"
            return response

    return answer


def routes() -> list[Route]:
    return [
        Route(path, _outage_is_503(endpoint), methods=methods)
        for path, endpoint, methods in (
            (LOGIN_PATH, login_route, ["GET", "POST"]),
            (LOGOUT_PATH, logout_route, ["GET", "POST"]),
            (SESSION_PATH, session_route, ["GET"]),
            # Anything under the media path, slashes and dots included, reaches the handler: refused and audited.
            (f"{MEDIA_PATH}/{{token:path}}", media_route, ["GET", "HEAD"]),
            (f"{PEAKS_PATH}/{{token:path}}", peaks_route, ["GET"]),
            (f"{assets.ASSETS_PATH}/{{name}}", assets_route, ["GET"]),
        )
    ]
