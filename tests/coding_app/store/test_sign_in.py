"""Password sign-in and the audit log under abuse, on SQLite and PostgreSQL.

What an unauthenticated stranger can make the study keep (the audit log is append-only), how
long a password check holds the database, and whose failed guesses lock whom out.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from coding_app import audit, logins
from coding_app.accounts import add_account, authenticate
from coding_app.logins import LoginRefused, LoginThrottled, login
from coding_app.ratings import NOTES_LIMIT
from coding_app.store import Store
from coding_app.store.models import AuditEntry

PASSWORD = "ann-password-1"
STRANGER, OWNER = "203.0.113.9", "198.51.100.7"
MEGABYTE = 1_000_000


@pytest.fixture
def with_ann(store):
    """The store, with one coder account: ann."""
    with store.write() as db:
        add_account(db, "ann", "coder", PASSWORD, "test")
    return store


def audit_rows(store: Store) -> list[AuditEntry]:
    with store.read() as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def test_every_field_that_reaches_the_audit_log_is_bounded(store):
    huge = "x" * MEGABYTE
    with store.write() as db:
        audit.record(
            db, huge, "test.huge", "thing", huge, old={"list": [huge, 1]}, new={"nested": {"text": huge}}, reason=huge
        )
    audit.refused(store, huge, "refused.test", "thing", huge, reason=huge)
    for row in audit_rows(store):
        assert (len(row.actor), len(row.entity_id), len(row.reason)) == (
            audit.ACTOR_WIDTH,
            audit.ID_WIDTH,
            audit.TEXT_WIDTH,
        )
        assert row.actor.endswith(audit.CUT) and row.entity_id.endswith(audit.CUT) and row.reason.endswith(audit.CUT)
    kept = audit_rows(store)[0]
    assert kept.old == {"list": [huge[: audit.TEXT_WIDTH - 1] + audit.CUT, 1]}
    assert kept.new == {"nested": {"text": huge[: audit.TEXT_WIDTH - 1] + audit.CUT}}


def test_the_longest_rightful_text_is_kept_whole(store):
    notes = "n" * NOTES_LIMIT
    with store.write() as db:
        audit.record(db, "ann", "notes.save", "assignment", 1, new={"text": notes}, reason=notes)
    (row,) = audit_rows(store)
    assert row.new == {"text": notes} and row.reason == notes


def test_a_megabyte_login_name_is_not_kept_whole(with_ann):
    with pytest.raises(LoginRefused):
        login(with_ann, "n" * MEGABYTE, PASSWORD, STRANGER)
    (row,) = audit_rows(with_ann)[1:]  # after add_account's row
    assert row.action == "login.failed" and len(row.entity_id) == audit.ID_WIDTH


@contextmanager
def transactions_watched(monkeypatch):
    """Count the store's open transactions, and note how many were open at each argon2 check."""
    open_now, at_check = [0], []
    for kind in ("read", "write"):
        opened = getattr(Store, kind)

        @contextmanager
        def counted(self, opened=opened):
            with opened(self) as db:
                open_now[0] += 1
                try:
                    yield db
                finally:
                    open_now[0] -= 1

        monkeypatch.setattr(Store, kind, counted)
    verify = PasswordHasher.verify

    def watched(self, hash, password):  # noqa: A002 - argon2's own parameter name
        at_check.append(open_now[0])
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", watched)
    yield at_check


def test_passwords_are_checked_outside_any_transaction(with_ann, monkeypatch):
    with transactions_watched(monkeypatch) as at_check:
        login(with_ann, "ann", PASSWORD, OWNER)
        for name, password in (("ann", "wrong-password"), ("nobody", PASSWORD)):
            with pytest.raises(LoginRefused):
                login(with_ann, name, password, OWNER)
    assert at_check == [0, 0, 0]


def test_the_command_lines_password_check_holds_no_transaction_either(with_ann, monkeypatch):
    """``obscode --as NAME`` checks the password the way the sign-in page does."""
    with transactions_watched(monkeypatch) as at_check:
        assert authenticate(with_ann, "ann", PASSWORD).name == "ann"
        assert authenticate(with_ann, "ann", "wrong-password") is None
    assert at_check == [0, 0]


def test_unknown_and_deactivated_names_cost_the_same_argon2_check(with_ann, monkeypatch):
    with with_ann.write() as db:
        add_account(db, "gone", "coder", PASSWORD, "test").active = False
    with transactions_watched(monkeypatch) as at_check:
        for name in ("nobody", "gone", "ann"):
            with pytest.raises(LoginRefused):
                login(with_ann, name, "wrong-password", OWNER)
    assert len(at_check) == 3


def test_a_strangers_wrong_guesses_do_not_lock_the_owner_out(with_ann):
    for _ in range(logins.MAX_FAILURES):
        with pytest.raises(LoginRefused, match="wrong name or password"):
            login(with_ann, "ann", "a-guess-number", STRANGER)
    with pytest.raises(LoginThrottled, match="too many failed attempts for this account"):
        login(with_ann, "ann", PASSWORD, STRANGER)  # the stranger, even with the right password
    assert login(with_ann, "ann", PASSWORD, OWNER)  # the owner, from her own address


def test_one_address_guessing_many_names_is_throttled_for_every_name(with_ann):
    for number in range(logins.MAX_CLIENT_FAILURES):
        with pytest.raises(LoginRefused, match="wrong name or password"):
            login(with_ann, f"guess{number}", "a-guess-number", STRANGER)
    with pytest.raises(LoginThrottled, match="too many failed attempts from this address"):
        login(with_ann, "ann", PASSWORD, STRANGER)
    assert login(with_ann, "ann", PASSWORD, OWNER)
    throttled = audit_rows(with_ann)[-2]
    assert (throttled.action, throttled.entity_id) == ("login.throttled", "ann")
    assert STRANGER not in str(throttled.new)  # the log counts addresses without keeping them


def test_the_brake_counts_failures_of_names_longer_than_the_logs_column(store):
    long_name = "a" * 100
    with store.write() as db:
        add_account(db, long_name, "coder", PASSWORD, "test")
    for _ in range(logins.MAX_FAILURES):
        with pytest.raises(LoginRefused, match="wrong name or password"):
            login(store, long_name, "a-guess-number", STRANGER)
    with pytest.raises(LoginThrottled):
        login(store, long_name, PASSWORD, STRANGER)
