"""Custom HTTP routes beside Streamlit: login, logout and media streaming.

Not under /auth/ (st.login's paths) nor Streamlit's reserved prefixes. Media are served by
Starlette's FileResponse, which streams in chunks and answers Range, HEAD, 206 and 416 itself,
so memory stays flat however large the file.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from .. import audit, blinded
from ..errors import NotAllowed, NotFound
from ..sessions import (
    SESSION_LIFETIME, LoginRefused, identify, login, logout, read_media_token, redeem_ticket, session_reference,
)  # fmt: skip
from . import runtime
from .runtime import COOKIE, LOGIN_PATH, LOGOUT_PATH, MEDIA_PATH, SESSION_PATH

_FORBIDDEN = "Forbidden"
_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>obscode: sign in</title>
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
<h1>obscode</h1><p class="lead">Sign in to your coding queue.</p>
{message}
<form method="post" action="{action}">
<label for="name">Account name</label><input id="name" name="name" autocomplete="username" required autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form></main></body></html>"""


def _login_page(message: str = "", status: int = 200) -> HTMLResponse:
    shown = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    return HTMLResponse(_LOGIN_PAGE.format(message=shown, action=LOGIN_PATH), status_code=status,
                        headers={"Cache-Control": "no-store"})  # fmt: skip


async def login_route(request: Request) -> Response:
    store = runtime.store()
    if request.method == "GET":
        if await run_in_threadpool(identify, store, request.cookies.get(COOKIE)):
            return RedirectResponse("/", status_code=303)
        return _login_page()
    form = await request.form()
    try:
        cookie = await run_in_threadpool(login, store, str(form.get("name", "")), str(form.get("password", "")))
    except LoginRefused as refused:
        return _login_page(str(refused), status=429 if "too many" in str(refused) else 401)
    return _signed_in(request, cookie)


def _signed_in(request: Request, cookie: str) -> Response:
    """Set the session cookie (HttpOnly, SameSite=Lax, Secure on https) and go to the app."""
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        COOKIE, cookie, max_age=int(SESSION_LIFETIME.total_seconds()), path="/", httponly=True, samesite="lax",
        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
    )  # fmt: skip
    return response


async def session_route(request: Request) -> Response:
    """Where the app sends a browser after an institution (OIDC) sign-in, to receive its cookie."""
    cookie = await run_in_threadpool(redeem_ticket, runtime.store(), request.query_params.get("ticket", ""))
    if cookie is None:
        return _login_page("That sign-in link has expired. Sign in again.", status=403)
    return _signed_in(request, cookie)


async def logout_route(request: Request) -> Response:
    await run_in_threadpool(logout, runtime.store(), request.cookies.get(COOKIE))
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


def _media_file(cookie: str | None, token: str) -> tuple[Path, str] | None:
    """(path, media type) of the file this request may have, or None: refused, and audited once.

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
            found = blinded.media(store, identity.account, claim[1])
        except (NotFound, NotAllowed):
            return None
        return runtime.media().path(found.name), found.media_type
    actor = identity.account.name if identity else "anonymous"
    audit.refused(store, actor, "refused.media", "recording", claim[1] if claim else None, reason=why)
    return None


async def media_route(request: Request) -> Response:
    found = await run_in_threadpool(_media_file, request.cookies.get(COOKIE), request.path_params["token"])
    if found is None:
        return PlainTextResponse(_FORBIDDEN, status_code=403)
    path, media_type = found
    if not path.is_file():
        return PlainTextResponse("This recording's media file is missing. Tell the PI.", status_code=404)
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    return FileResponse(path, media_type=media_type, headers=headers)


def routes() -> list[Route]:
    return [
        Route(LOGIN_PATH, login_route, methods=["GET", "POST"]),
        Route(LOGOUT_PATH, logout_route, methods=["GET", "POST"]),
        Route(SESSION_PATH, session_route, methods=["GET"]),
        # Anything under the media path, slashes and dots included, reaches the handler: refused and audited.
        Route(f"{MEDIA_PATH}/{{token:path}}", media_route, methods=["GET", "HEAD"]),
    ]
