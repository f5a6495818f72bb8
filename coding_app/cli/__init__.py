"""The ``obscode`` command: one Typer app, its commands grouped by concern in this package's modules."""

# Importing a module registers its commands; `obscode --help` lists them in this order, a study's own.
from . import study, accounts, reports, lock, server, operations  # noqa: F401, I001
from .app import FILE_ERROR, REFUSED, UNAVAILABLE, app

__all__ = ["FILE_ERROR", "REFUSED", "UNAVAILABLE", "app"]
