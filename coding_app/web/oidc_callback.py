"""The audit log's record of institution sign-ins that Streamlit's ``/oauth2callback`` refuses.

Streamlit answers a replayed, stale or failed callback (a sign-in code used again, a state this
browser never asked for, a code the identity provider will not exchange, an error from it) with a
plain redirect home and a server-log line. This middleware watches that one path and writes each
refusal to obscode's audit log, naming nothing from the request (codes, states and error texts
are the provider's or an attacker's words, not ours to keep).
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from streamlit.web.server.starlette.starlette_server_config import USER_COOKIE_NAME

from .. import audit
from . import runtime

CALLBACK_PATH = "/oauth2callback"


def _signs_in(message: Message) -> bool:
    """Whether a response start sets Streamlit's identity cookie (a sign-in), not clears it."""
    for name, value in message.get("headers", []):
        if name.lower() == b"set-cookie":
            cookie, _, content = value.decode("latin-1").partition(";")[0].partition("=")
            if cookie == USER_COOKIE_NAME and content.strip('"'):
                return True
    return False


def _authorization_response(scope: Scope) -> QueryParams | None:
    """The query of a sign-in callback (a code, or the provider's error), else None.

    The same path also receives the provider's redirect after an institution sign-out: not a sign-in.
    """
    if scope["type"] != "http" or not scope["path"].endswith(CALLBACK_PATH):
        return None
    params = QueryParams(scope["query_string"])
    return params if {"code", "error"} & set(params) else None


class AuditRefusedCallbacks:
    """ASGI middleware: a callback that does not end signed in is a refusal, audited once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        params = _authorization_response(scope)
        if params is None:
            await self.app(scope, receive, send)
            return
        signed_in = False

        async def watch(message: Message) -> None:
            nonlocal signed_in
            if message["type"] == "http.response.start":
                signed_in = _signs_in(message)
            await send(message)

        await self.app(scope, receive, watch)
        if not signed_in:
            why = (
                "the identity provider returned an error"
                if "error" in params
                else "sign-in code replayed, stale or refused"
            )
            await run_in_threadpool(
                audit.refused, runtime.store(), "anonymous", "refused.institution_sign_in", "session", reason=why
            )
