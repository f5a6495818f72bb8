"""The ``obscode`` app itself: its options, its error boundary, and what every command shares."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from sqlalchemy.engine import make_url
from typer import _click  # Typer vendors Click: a command's context is this Click's Context
from typer.core import TyperGroup

from reliability import Scale

from .. import audit
from ..accounts import authenticate
from ..errors import NotFound
from ..store import Store, StoreError, StoreUnavailable, database_url
from ..store.models import Account

# reached just now (try again), 4 a file could not be read or written.
REFUSED, UNAVAILABLE, FILE_ERROR = 2, 3, 4
# What a person can act on (domain refusals are ValueErrors). Anything else is a bug and keeps its traceback.
_EXPECTED = (ValueError, NotFound, PermissionError, OSError, StoreError)


def _typed(name: str, typed: list[str]) -> bool:
    """Whether the user typed this path, a folder it is in, or a path inside it (``--output=PATH`` too)."""
    path = Path(name)
    given = [Path(t.split("=", 1)[-1]) for t in typed if t.strip("-=")]
    return any(path == g or path in g.parents or g in path.parents for g in given)


def _said(error: Exception, typed: list[str]) -> tuple[str, int]:
    """The one-line message and exit code for an expected error.

    A file is named only if the user typed it (or the folder it is in): a path the study made
    up, or one from a manifest, can carry a participant's name or visit.
    """
    if isinstance(error, StoreUnavailable):
        return str(error), UNAVAILABLE
    if isinstance(error, OSError) and not (isinstance(error, PermissionError) and error.errno is None):
        name = str(error.filename or "")
        return (
            f"{name if name and _typed(name, typed) else 'a file'}: {error.strerror or 'cannot be read or written'}",
            FILE_ERROR,
        )
    return str(error), REFUSED


class _ErrorBoundary(TyperGroup):
    """Every command runs inside this group: an expected error ends it with one message on stderr and an
    exit code, never a traceback (which would quote paths and values)."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        ctx.meta["obscode.typed"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: _click.Context) -> object:
        try:
            return super().invoke(ctx)
        except _EXPECTED as error:
            message, code = _said(error, ctx.meta.get("obscode.typed", []))
            typer.echo(f"error: {message}", err=True)
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=_ErrorBoundary,
    help="obscode: blinded observational coding, fidelity rating and inter-rater reliability for clinical trials.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class Context:
    db: str | None
    media: Path | None
    user: str | None

    def store(self) -> Store:
        """The study database, ready to use (StoreError with the reason otherwise).

        A SQLite file that is not there is refused rather than made: run from the wrong folder, the
        default path would otherwise start a second, empty study. Only ``init`` makes one.
        """
        missing = sqlite_file(self.db)
        if missing is not None and not missing.exists():
            fail(
                f"no study database at {missing.resolve()}: run obscode in the study's folder, or point at the "
                "study with --db URL or OBSCODE_DATABASE_URL (obscode init starts a new study there)"
            )
        store = Store(self.db)
        store.check()
        return store

    @property
    def actor(self) -> str:
        return self.user or "cli"

    def pi(self, store: Store) -> Account:
        """The PI named by --as, after checking their password; exits otherwise."""
        if not self.user:
            fail("this needs a PI: name your account with --as NAME (or OBSCODE_USER)")
        password = os.environ.get("OBSCODE_PASSWORD") or _ask_password(self.user)
        account = authenticate(store, self.user, password)
        if account is None or not account.has_role("pi"):
            refusal = "not a PI account, or wrong password"
            audit.refused(store, self.user, "refused.command", "command", reason=refusal)
            fail(refusal)
        if account.must_change_password:
            refusal = "your password was reset: sign in to the app and choose a new one first"
            audit.refused(store, self.user, "refused.command", "command", reason=refusal)
            fail(refusal)
        return account


def _ask_password(name: str) -> str:
    try:
        return typer.prompt(f"Password for {name} (PI account, needed for this command)", hide_input=True)
    except typer.Abort:  # Ctrl-C, or the end of input (no terminal to read from)
        typer.echo("", err=True)
        fail(
            f"stopped: no password given for {name}; this command needs the PI's password "
            "(OBSCODE_PASSWORD gives it where there is no terminal)"
        )


def sqlite_file(url: str | None) -> Path | None:
    """The file of a SQLite study database (``--db``, ``OBSCODE_DATABASE_URL`` or the default), else None."""
    parsed = make_url(database_url(url))
    return (
        Path(parsed.database)
        if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
        else None
    )


def study_location(url: str | None) -> str:
    """Where the study database is, for people: a SQLite file's full path, or the server URL without its password."""
    file = sqlite_file(url)
    return str(file.resolve()) if file is not None else make_url(database_url(url)).render_as_string(hide_password=True)


@contextmanager
def progress_shown(stages: dict[str, str]) -> Iterator[Callable[[str, int, int], None]]:
    """A ``(stage, done, total)`` callback that shows each stage's progress on stderr, stdout staying for results.

    ``stages`` names each stage for people. A terminal gets a live bar per stage, a log each bar once
    when done; nothing at all is shown until the first report.
    """
    with ExitStack() as showing:
        tasks: dict[str, TaskID] = {}
        shown: list[Progress] = []

        def tell(stage: str, done: int, total: int) -> None:
            if not shown:
                shown.append(
                    showing.enter_context(
                        Progress(
                            TextColumn("{task.description}"),
                            BarColumn(),
                            MofNCompleteColumn(),
                            TimeElapsedColumn(),
                            console=Console(stderr=True),
                        )
                    )
                )
            if stage not in tasks:
                tasks[stage] = shown[0].add_task(stages.get(stage, stage), total=total)
            shown[0].update(tasks[stage], completed=done, total=total)

        yield tell


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(REFUSED)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option(help="Database URL (default sqlite:///var/obscode.db).", envvar="OBSCODE_DATABASE_URL")
    ] = None,
    media: Annotated[
        Path | None, typer.Option(help="Blinded media folder (default var/media).", envvar="OBSCODE_MEDIA_DIR")
    ] = None,
    user: Annotated[
        str | None, typer.Option("--as", help="Your account, recorded in the audit log.", envvar="OBSCODE_USER")
    ] = None,
) -> None:
    """Observational coding and fidelity rating for clinical trials."""
    ctx.obj = Context(db, media, user)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def parse_scales(specs: list[str], threshold: float | None) -> Scale | dict[str, Scale]:
    """``LOW:HIGH:STEP`` for every subscale, or ``SUBSCALE=LOW:HIGH:STEP`` each."""
    named = [s for s in specs if "=" in s]
    if named and len(named) != len(specs):
        raise typer.BadParameter("give either one --scale for all subscales or SUBSCALE=LOW:HIGH:STEP for each")
    try:
        if not named:
            if len(specs) != 1:
                raise typer.BadParameter("more than one --scale needs SUBSCALE=LOW:HIGH:STEP for each")
            return Scale.parse(specs[0], threshold)
        pairs = (spec.split("=", 1) for spec in named)
        return {name.strip(): Scale.parse(text, threshold) for name, text in pairs}
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--scale") from None
