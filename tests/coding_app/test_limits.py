"""Limits set in two modules that must agree."""

from coding_app import audit, ratings


def test_the_audit_holds_the_longest_notes_a_coder_may_save():
    """Every save of a coder's notes is kept in the append-only audit log, texts cut to TEXT_WIDTH.

    The log must keep a note's whole text: if the notes form accepted more than the audit holds,
    the record of what was written would end in '…' for good. Raise one limit, raise the other.
    """
    assert audit.TEXT_WIDTH >= ratings.NOTES_LIMIT
