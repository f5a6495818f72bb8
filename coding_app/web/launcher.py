"""What `streamlit run` starts: the Streamlit app plus obscode's own routes.

`obscode run` (or `streamlit run coding_app/web/launcher.py`) finds the ``app`` variable.
Streamlit's /_stcore/metrics answers anyone, signed in or not, and has no setting to turn it
off: it answers 404 here unless the operator asks for it with OBSCODE_METRICS=on.
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from streamlit import App

from coding_app.store import StoreUnavailable
from coding_app.web import runtime
from coding_app.web.oidc_callback import AuditRefusedCallbacks
from coding_app.web.routes import routes

METRICS = "/_stcore/metrics"


class WithoutMetrics:
    """Answer 404 for Streamlit's metrics path (under any base URL path) before Streamlit sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].rstrip("/").endswith(METRICS):
            await PlainTextResponse("Not Found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)


@asynccontextmanager
async def remove_orphan_media(_app: App) -> AsyncIterator[None]:
    """At each start, remove what an import killed since left in the media store (MediaStore.remove_orphans)."""
    with suppress(StoreUnavailable):  # the app starts all the same; the next start or import tries again
        runtime.media().remove_orphans(runtime.store())
    yield


middleware = [Middleware(AuditRefusedCallbacks)]
if os.environ.get("OBSCODE_METRICS", "").lower() not in ("on", "1", "true", "yes"):
    middleware.append(Middleware(WithoutMetrics))
app = App(Path(__file__).with_name("app.py"), routes=routes(), middleware=middleware, lifespan=remove_orphan_media)
