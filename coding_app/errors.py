"""Errors a person can act on: each says what is wrong and where."""

from __future__ import annotations

_MAX_LISTED = 30


class ImportRefused(ValueError):
    """Nothing was imported; ``problems`` names every row and field at fault."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems[:_MAX_LISTED])
        more = len(problems) - _MAX_LISTED
        super().__init__(
            f"nothing was imported from {source}: {len(problems)} problem{'s' if len(problems) != 1 else ''}\n"
            + listed
            + (f"\n  ... and {more} more" if more > 0 else "")
        )


class NotAllowed(PermissionError):
    """The acting account's role may not do this."""


class NotFound(LookupError):
    """No such thing, or none this account may see (the two are not told apart)."""
