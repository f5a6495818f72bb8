"""What the routes and pages of one app process share: the study's store, its media folder and the app's paths."""

from __future__ import annotations

from functools import cache

from ..media import MediaStore, media_dir
from ..store import Store

COOKIE = "obscode_session"
LOGIN_PATH = "/obscode/login"
LOGOUT_PATH = "/obscode/logout"
MEDIA_PATH = "/obscode/media"
SESSION_PATH = "/obscode/session"


@cache
def store() -> Store:
    """The study database named by OBSCODE_DATABASE_URL (one pool per process)."""
    return Store()


@cache
def media() -> MediaStore:
    return MediaStore(media_dir())
