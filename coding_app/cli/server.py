"""Serving the app."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..media import media_dir
from .app import app



LAUNCHER = Path(__file__).parent.parent / "web" / "launcher.py"


@app.command()
def run(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0 for a network; put https in front).")] = "127.0.0.1",
) -> None:
    """Serve the coding app and the PI pages."""
    store = ctx.obj.store()
    environment = os.environ | {"OBSCODE_DATABASE_URL": store.url, "OBSCODE_MEDIA_DIR": str(media_dir(ctx.obj.media))}
    store.dispose()
    arguments = [
        sys.executable, "-m", "streamlit", "run", str(LAUNCHER), "--server.port", str(port),
        "--server.address", address, "--server.headless", "true", "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none", "--server.runOnSave", "false", "--client.toolbarMode", "minimal",
        "--theme.primaryColor", "#2f5bd3",
        # A traceback can quote data: coders see a plain error, the details go to the server log.
        "--client.showErrorDetails", "none",
    ]  # fmt: skip
    os.execve(sys.executable, arguments, environment)
