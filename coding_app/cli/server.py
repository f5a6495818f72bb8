"""Serving the app, and the files to serve it behind nginx."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from .. import deploy as deploy_files
from ..media import media_dir
from ..web.routes import ACCEL_REDIRECT
from .app import app

LAUNCHER = Path(__file__).parent.parent / "web" / "launcher.py"


@app.command()
def run(
    ctx: typer.Context,
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    address: Annotated[
        str, typer.Option(help="Address to listen on (0.0.0.0 for a network; put https in front).")
    ] = "127.0.0.1",
    accel_redirect: Annotated[
        str | None,
        typer.Option(
            help="Behind nginx: its internal location for the media store (`obscode deploy nginx` makes "
            f"{deploy_files.MEDIA_LOCATION}); the app then only authorises media and nginx sends them.",
            envvar=ACCEL_REDIRECT,
        ),
    ] = None,
) -> None:
    """Serve the coding app and the PI pages."""
    if accel_redirect is not None and not (accel_redirect.startswith("/") and accel_redirect.endswith("/")):
        raise typer.BadParameter(
            f"{accel_redirect!r} is not a location: it starts and ends with '/', e.g. {deploy_files.MEDIA_LOCATION}",
            param_hint="--accel-redirect",
        )
    store = ctx.obj.store()
    environment = os.environ | {"OBSCODE_DATABASE_URL": store.url, "OBSCODE_MEDIA_DIR": str(media_dir(ctx.obj.media))}
    environment.pop(ACCEL_REDIRECT, None)
    if accel_redirect:
        environment[ACCEL_REDIRECT] = accel_redirect
    store.dispose()
    arguments = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(LAUNCHER),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.runOnSave",
        "false",
        # Streamlit collects all garbage after every script run by default: 150 ms of CPU after each score key.
        "--runner.postScriptGC",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--theme.primaryColor",
        "#2f5bd3",
        # A traceback can quote data: coders see a plain error, the details go to the server log.
        "--client.showErrorDetails",
        "none",
    ]
    os.execve(sys.executable, arguments, environment)


deploy = typer.Typer(
    help="Print the files to run a study on several app processes behind nginx (docs/deploy).", no_args_is_help=True
)
app.add_typer(deploy, name="deploy")


@deploy.command("nginx")
def deploy_nginx(
    ctx: typer.Context,
    port: Annotated[
        list[int], typer.Option(help="A replica's local port (`obscode run --port`); give one per replica.")
    ] = [8501, 8502],  # noqa: B006 - typer's list default
    server_name: Annotated[str, typer.Option(help="The host name coders type.")] = "obscode.example.org",
    listen: Annotated[
        int | None, typer.Option(help="Port nginx listens on (default 443 with TLS, 80 without).")
    ] = None,
    tls: Annotated[
        bool, typer.Option(help="Serve https (--no-tls: plain http, behind a TLS terminator of your own).")
    ] = True,
    certificate: Annotated[
        str | None, typer.Option(help="TLS certificate file (default: a placeholder to change).")
    ] = None,
    certificate_key: Annotated[
        str | None, typer.Option(help="TLS key file (default: a placeholder to change).")
    ] = None,
    log_dir: Annotated[
        Path, typer.Option(help="Where nginx writes this site's access and error logs.")
    ] = deploy_files.LOG_DIR,
) -> None:
    """Print the nginx site for these replicas: sticky sessions, failover, websockets, media sent by nginx."""
    typer.echo(
        deploy_files.nginx_config(
            port,
            server_name,
            media_dir(ctx.obj.media),
            listen=listen,
            tls=tls,
            certificate=certificate,
            certificate_key=certificate_key,
            log_dir=log_dir,
        ),
        nl=False,
    )


@deploy.command("systemd")
def deploy_systemd(
    ctx: typer.Context,
    user: Annotated[str, typer.Option(help="The system account the replicas run as.")] = "obscode",
    working_directory: Annotated[
        Path | None, typer.Option(help="The replicas' working directory (default: here).")
    ] = None,
) -> None:
    """Print a systemd unit template: one replica per instance, obscode@PORT."""
    obscode = Path(sys.executable).with_name("obscode")
    typer.echo(
        deploy_files.systemd_unit(media_dir(ctx.obj.media), obscode, (working_directory or Path.cwd()).resolve(), user),
        nl=False,
    )
