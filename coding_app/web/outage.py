"""A database outage on the coding pages: the coder's drafts are kept in the window and saved back."""

from __future__ import annotations

from contextlib import suppress

from ..blinded import save_draft, save_notes
from ..ratings import RatingLocked
from ..store import Store
from ..store.models import Account

UNAVAILABLE = (
    "The study database cannot be reached just now. Nothing you entered is lost: it is kept in this "
    "window and saved as soon as the database is back. Carry on, or try again in a moment."
)
KEPT = "kept-drafts"
"""Session-state key: drafts typed while the database was away, {(code, scale): score} and {(code, None): notes}."""


def save_kept(kept: dict[tuple[str, str | None], float | str | None], store: Store, account: Account) -> None:
    """Save the drafts kept back during an outage, first thing on the next interaction.

    Each is forgotten once saved (or once its recording turns out to be submitted meanwhile,
    when there is nothing left to save it into); raises StoreUnavailable if the database is
    still away, keeping the rest.
    """
    for (code, scale_key), value in list(kept.items()):
        with suppress(RatingLocked):
            if scale_key is None:
                assert isinstance(value, str)  # (code, None) keeps the notes
                save_notes(store, account, code, value)
            else:
                assert not isinstance(value, str)  # (code, scale) keeps a score, or None for one cleared
                save_draft(store, account, code, scale_key, value)
        del kept[(code, scale_key)]
