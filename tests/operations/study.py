"""A study with media files on disk, and the `obscode` command run on it, for the backup and withdrawal tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from click.testing import Result
from sqlalchemy import select
from typer.testing import CliRunner

from coding_app.cli import app
from coding_app.codebook import DEFAULT_CODEBOOK, load_codebook
from coding_app.media import MediaStore
from coding_app.store import Store
from coding_app.store.models import Recording
from coding_app.study_setup import initialise
from tests.coding_app.helpers import PASSWORD, add_account
from tests.faults.load import make_study

PI, CODER = "pi.one", "rater.one"


@dataclass
class MediaStudy:
    store: Store
    media: MediaStore
    coders: list[str]

    def obscode(self, *args: str, user: str = PI, db: str | None = None, media: Path | None = None) -> Result:
        """The real `obscode` command on this study (or on ``db`` and ``media``), signed in as ``user``."""
        where = ["--db", db or self.store.url, "--media", str(media or self.media.root)]
        return CliRunner().invoke(app, [*where, "--as", user, *args], env={"OBSCODE_PASSWORD": PASSWORD})

    def media_names(self) -> dict[str, str]:
        """Recording code -> media file name."""
        with self.store.read() as db:
            return dict(db.execute(select(Recording.code, Recording.media_name)).all())

    def declare_withdrawn_ratings(self, rule: str, root: Path) -> None:
        """Re-initialise with a codebook whose [study] section says what a withdrawal does to ratings."""
        path = root / "codebook-withdrawals.toml"
        path.write_text(
            DEFAULT_CODEBOOK.read_text(encoding="utf-8") + f'\n[study]\nwithdrawn_ratings = "{rule}"\n',
            encoding="utf-8",
        )
        initialise(self.store, load_codebook(path), "test")


def media_study(store: Store, root: Path, coders: int, recordings: int) -> MediaStudy:
    """``coders`` coders with every one of ``recordings`` videos in their queue (one participant each,
    LP0000...), a PI and a coder account named PI and CODER, and a media file (random bytes) for every recording."""
    names = make_study(store, coders, recordings)
    add_account(store, PI, "pi")
    add_account(store, CODER, "coder")
    study = MediaStudy(store, MediaStore(root / "media"), names)
    study.media.root.mkdir(parents=True)
    for name in study.media_names().values():
        study.media.path(name).write_bytes(secrets.token_bytes(4096 + secrets.randbelow(4096)))
    return study


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes, by relative path."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
