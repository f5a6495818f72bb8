"""The player's test page (player_app.py) served as the app serves the player: the clips of the folder named by
PLAYER_CLIPS under the media path, each clip's sound envelope (measured as an import measures it) under the
peaks path, and the app's own route for the drawing library.

`streamlit run tests/e2e/player_launcher.py` finds the ``app`` variable.
"""

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route
from streamlit import App

from coding_app.playback import measure
from coding_app.web.assets import ASSETS_PATH
from coding_app.web.routes import PEAKS_PATH, assets_route
from coding_app.web.runtime import MEDIA_PATH

CLIPS = Path(os.environ["PLAYER_CLIPS"])


def _clip(request: Request) -> Path:
    return CLIPS / Path(request.path_params["name"]).name


async def clip(request: Request) -> Response:
    return FileResponse(_clip(request))


async def peaks(request: Request) -> Response:
    return Response(measure(_clip(request)).peaks, media_type="application/octet-stream")


app = App(
    Path(__file__).with_name("player_app.py"),
    routes=[
        Route(f"{MEDIA_PATH}/{{name}}", clip, methods=["GET", "HEAD"]),
        Route(f"{PEAKS_PATH}/{{name}}", peaks),
        Route(f"{ASSETS_PATH}/{{name}}", assets_route),
    ],
)
