"""How spreadsheets name recordings and participants: ids compared as a person reads them, and the opaque codes.

Every importer finds what a row names through these, so that 'P-001', 'p-001 ' and 'P‑001' with an
invisible space are one participant everywhere. Reads the recording key: for the PI's imports only.
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..store.models import Recording, RecordingKey

# Unambiguous when read aloud or copied by hand: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8
# Characters that show as nothing at all: zero-width spaces and joiners, word joiner, a stray BOM.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"


def new_code(taken: set[str]) -> str:
    """An opaque recording code: random, not sequential, not derived from any id."""
    while (code := "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))) in taken:
        pass
    taken.add(code)
    return code


def same_id(value: str) -> str:
    """The form two ids are compared in: ids differing only in case or spaces are the same id.

    Spaces include the ones a person cannot see (no-break, zero-width) and look-alike forms
    (full-width digits) are folded, so that two ids that print the same are the same id.
    """
    return re.sub(rf"[\s{_INVISIBLE}]+", "", unicodedata.normalize("NFKC", value)).casefold()


def recording_finder(db: Session) -> Callable[[str], Recording | None]:
    """Find a recording as a file names it: by its opaque code, or by its manifest id (as :func:`same_id` compares)."""
    by_code = {r.code: r for r in db.scalars(select(Recording))}
    by_id = {r.id: r for r in by_code.values()}
    by_external = {same_id(k.external_id): by_id[k.recording_id] for k in db.scalars(select(RecordingKey))}
    return lambda given: by_code.get(given) or by_external.get(same_id(given))
